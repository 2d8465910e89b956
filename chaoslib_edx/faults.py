"""The fault registry: one declaration per fault kind.

Discovery (`chaos discover`), target resolution, the inventory's cloud sections, the
guardrails, the game-day plan's health checks and the tests' parametrisation all read
FAULTS; adding a fault adds one entry here and edits no other list.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from chaoslib_edx.cache.contract import AwsCache, CacheDriver
from chaoslib_edx.cdn.contract import AwsDistribution, CdnDriver
from chaoslib_edx.dblatency.contract import AwsDatabaseLatency, LatencyDriver
from chaoslib_edx.model import Model
from chaoslib_edx.pods.contract import KubernetesDeployment, PodsDriver
from chaoslib_edx.rds.contract import AwsDatabase, DatabaseDriver
from chaoslib_edx.zone.contract import AwsZone, ZoneDriver

PLATFORMS = ("sandbox", "aws")  # an environment's `driver`; each needs a placement below


@dataclass(frozen=True)
class Placement:
    """Where a fault's targets are found on one platform and which driver acts on them."""

    driver: str                   # the driver module in the fault's package
    section: str = ""             # dotted inventory section holding the targets by name
    model: type[Model] | None = None  # one entry of that section
    names: tuple[str, ...] = ()   # fixed target names where the platform has no section


@dataclass(frozen=True)
class Fault:
    kind: str                     # the word the inventory and plan use: "database"
    package: str                  # chaoslib_edx.<package> holds actions, probes, drivers
    argument: str                 # the activity argument naming the target
    placements: Mapping[str, Placement]  # platform -> placement, for every PLATFORMS
    health_probe: str             # a probe of <package>.probes: True when the target is well
    contract: type                # the typing.Protocol every driver module satisfies
    rollbacks: tuple[str, ...]    # actions that undo the fault: all a ledger line may run
    # action -> a function of <package>.actions (target, arguments, secrets) that raises
    # GuardrailRefused before anything acts: the blast-radius check of that action.
    guards: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # action -> a function of <package>.actions (target, arguments, result, secrets) that
    # says whether the fault that action applied is still in effect (None: this platform
    # cannot show it), polled while it is live; an action mapped to None is instantaneous
    # (a kill: nothing stays to check). Every fault action is listed here.
    lives: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    # An action of <package>.actions that keeps the fault live until its rollback runs: what
    # a capacity plan's degraded sweep holds for a whole sweep (None: it cannot be held).
    hold: str | None = None
    # The longest its rollback may take on any platform (the waits of its drivers): what a
    # runner must be given after SIGTERM to roll back (a pod's termination grace period).
    rollback_bound_s: int = 120

    @property
    def actions_module(self) -> str:
        return f"chaoslib_edx.{self.package}.actions"

    @property
    def probes_module(self) -> str:
        return f"chaoslib_edx.{self.package}.probes"

    def driver_module(self, platform: str) -> str:
        return f"chaoslib_edx.{self.package}.{self.placements[platform].driver}"


FAULTS: tuple[Fault, ...] = (
    Fault("database", "rds", "database",
          {"sandbox": Placement("sandbox", names=("edxapp",)),
           "aws": Placement("aws", "aws.databases", AwsDatabase)},
          "database_writable", DatabaseDriver, ("restore_database",),
          lives=MappingProxyType({"failover_database": "live_failover"}),
          rollback_bound_s=900),
    Fault("cache", "cache", "cache",
          {"sandbox": Placement("sandbox", names=("sessions",)),
           "aws": Placement("aws", "aws.caches", AwsCache)},
          "cache_healthy", CacheDriver, ("restore_cache",), hold="evict_cache",
          lives=MappingProxyType({"evict_cache": "live_evict"}), rollback_bound_s=900),
    Fault("pods", "pods", "deployment",
          {"sandbox": Placement("sandbox", names=("lms",)),
           "aws": Placement("kubernetes", "kubernetes.deployments", KubernetesDeployment)},
          "lms_replicas_ready", PodsDriver, ("wait_lms_replicas_ready", "restore_lms_replicas"),
          guards=MappingProxyType({"kill_lms_replicas": "guard_kill",
                                   "stop_lms_replicas": "guard_stop"}),
          lives=MappingProxyType({"kill_lms_replicas": None, "stop_lms_replicas": "live_stop"}),
          hold="stop_lms_replicas"),
    Fault("cdn", "cdn", "distribution",
          {"sandbox": Placement("sandbox", names=("video",)),
           "aws": Placement("aws", "aws.distributions", AwsDistribution)},
          "video_origin_serving", CdnDriver, ("restore_video_origin",),
          lives=MappingProxyType({"break_video_origin": "live_break"}),
          hold="break_video_origin", rollback_bound_s=1800),
    Fault("database_latency", "dblatency", "database",
          {"sandbox": Placement("sandbox", names=("edxapp",)),
           "aws": Placement("aws", "aws.database_latency", AwsDatabaseLatency)},
          "database_at_full_speed", LatencyDriver, ("restore_database_speed",),
          guards=MappingProxyType({"slow_database": "guard_slow"}), hold="slow_database",
          lives=MappingProxyType({"slow_database": "live_slow"}), rollback_bound_s=300),
    # Composed: its sandbox driver fails the database and cache over through their own
    # drivers (found here); the zones a sandbox has are its settings' (sandbox.zones).
    Fault("zone", "zone", "zone",
          {"sandbox": Placement("sandbox", names=("a", "b", "c")),
           "aws": Placement("aws", "aws.zones", AwsZone)},
          "zone_healthy", ZoneDriver, ("restore_zone",),
          guards=MappingProxyType({"zone_outage": "guard_outage"}), hold="zone_outage",
          lives=MappingProxyType({"zone_outage": "live_outage"}), rollback_bound_s=900),
)

_BY_KIND = {fault.kind: fault for fault in FAULTS}
_BY_PACKAGE = {fault.package: fault for fault in FAULTS}


def longest_rollback_s() -> int:
    """The longest any fault's rollback may take: how long a stopped runner needs."""
    return max(f.rollback_bound_s for f in FAULTS)


def fault(kind: str) -> Fault:
    """The registry entry of KIND (KeyError names the known kinds)."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise KeyError(f"no fault kind '{kind}' (known: {', '.join(_BY_KIND)})") from None


def of_module(module: str) -> Fault | None:
    """The fault whose package holds MODULE (chaoslib_edx.<package>.<x>), else None."""
    parts = module.split(".")
    return _BY_PACKAGE.get(parts[1]) if len(parts) == 3 and parts[0] == "chaoslib_edx" \
        else None


def sections(root: str) -> dict[str, type[Model]]:
    """The cloud inventory sections under ROOT ("aws", "kubernetes"): name -> entry model."""
    found = {}
    for entry in FAULTS:
        for placement in entry.placements.values():
            head, _, name = placement.section.partition(".")
            if head == root and placement.model is not None:
                found[name] = placement.model
    return found
