"""Where everything of one sandbox lives: ports from one base, files under one state dir."""

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from chaoslib_edx.context import environment_context
from chaoslib_edx.environment import SandboxSettings
from chaoslib_edx.errors import UserError
from chaoslib_edx.model import validation_error

PORT_SPAN = SandboxSettings.PORT_SPAN  # base+0 .. base+29
_OFFSETS = {"lb": 0, "cdn": 1, "origin": 2, "db_endpoint": 3, "db_primary": 4,
            "db_replica": 5, "redis": 6, "db_path": 7, "redis_replica": 9,
            "cache_endpoint": 18}
LMS_OFFSET = 10  # .. +17: one port per replica, at most 8
# The monitoring, when enabled (see sandbox.monitoring).
_MONITORING_OFFSETS = {"pager": 8, "prometheus": 20, "alertmanager": 21, "mtail": 22,
                       "nginx_status": 23, "nginx_exporter": 24, "redis_exporter": 25,
                       "mysqld_exporter_db-a": 26, "mysqld_exporter_db-b": 27}
LOAD_MASTER_OFFSET = 28  # a run's Locust master, for workers started outside the runner
CONSOLE_OFFSET = 29  # a game day's live console (run --console)
DB_NODES = ("db-a", "db-b")  # db-a starts as primary, db-b as its replica
CACHE_NODES = ("redis", "redis-b")  # redis starts as primary, redis-b as its replica
# Each endpoint's nodes, the first the home primary: one address for the application,
# re-pointed at whichever node is primary (sandbox.endpoints).
ENDPOINT_NODES = {"db": DB_NODES, "cache": CACHE_NODES}


@dataclass(frozen=True)
class Layout:
    """Ports and paths of one sandbox, derived from its settings."""

    settings: SandboxSettings
    root: Path

    @classmethod
    def from_settings(cls, settings: SandboxSettings, base_dir: Path | None = None) -> "Layout":
        """BASE_DIR: the directory of the inventory file naming the state dir (a relative
        state_dir belongs to the inventory, never to the working directory)."""
        root = Path(settings.state_dir).expanduser()
        if not root.is_absolute():
            root = (base_dir or Path.cwd()) / root
        return cls(settings, root.resolve())

    @classmethod
    def of_inventory(cls, settings: SandboxSettings, env_file: Path | str) -> "Layout":
        return cls.from_settings(settings, Path(env_file).absolute().parent)

    @staticmethod
    def of(target: object) -> "Layout":
        """The layout the sandbox platform put in a resolved target's spec."""
        spec = getattr(target, "spec", None)
        if not isinstance(spec, Layout):
            raise TypeError(f"not a sandbox target: {target!r}")
        return spec

    def port(self, name: str) -> int:
        return self.settings.port_base + {**_OFFSETS, **_MONITORING_OFFSETS}[name]

    def db_port(self, node: str) -> int:
        return self.port("db_primary") if node == DB_NODES[0] else self.port("db_replica")

    def node_port(self, node: str) -> int:
        """A database or cache node's own port (not its endpoint's)."""
        if node in CACHE_NODES:
            return self.port("redis") if node == CACHE_NODES[0] else self.port("redis_replica")
        return self.db_port(node)

    @property
    def zones(self) -> dict[str, list[str]]:
        """Zone -> the programs in it, as a cloud spreads them: the LMS replicas round
        robin over the zones, each database and cache node in the zone of its index (the
        primaries in the first zone, their replicas in the second). The LB, CDN, origin,
        endpoints and monitoring are regional, in no zone."""
        names = self.settings.zones
        found: dict[str, list[str]] = {zone: [] for zone in names}
        for index, name in enumerate(self.lms_ports):
            found[names[index % len(names)]].append(name)
        for nodes in ENDPOINT_NODES.values():
            for index, node in enumerate(nodes):
                found[names[index]].append(node)
        return found

    def zone_of(self, program: str) -> str | None:
        """The zone PROGRAM runs in (None: a regional one)."""
        return next((zone for zone, programs in self.zones.items() if program in programs),
                    None)

    @property
    def load_master_port(self) -> int:
        return self.settings.port_base + LOAD_MASTER_OFFSET

    @property
    def console_port(self) -> int:
        return self.settings.port_base + CONSOLE_OFFSET

    @property
    def lms_ports(self) -> dict[str, int]:
        return {f"lms-{i}": self.settings.port_base + LMS_OFFSET + i - 1
                for i in range(1, self.settings.lms_replicas + 1)}

    @property
    def monitored(self) -> bool:
        return self.settings.monitoring.enabled

    def all_ports(self) -> dict[str, int]:
        names = [*_OFFSETS, *(_MONITORING_OFFSETS if self.monitored else ())]
        ports = {name: self.port(name) for name in names}
        ports.update(self.lms_ports)
        return ports

    # Paths -------------------------------------------------------------------
    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def assets(self) -> Path:
        return self.root / "assets"

    @property
    def gameday_dir(self) -> Path:
        """The environment's lock, recovery ledger and load pidfile (they may exist before
        the sandbox was ever up: a dry run or a recover takes the lock)."""
        return self.root / "gameday"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.env"

    @property
    def inventory_file(self) -> Path:
        return self.root / "inventory.yaml"

    @property
    def supervisor_socket(self) -> Path:
        return self.run / "supervisor.sock"

    @property
    def supervisor_pidfile(self) -> Path:
        return self.run / "supervisord.pid"

    def endpoint_conf(self, endpoint: str) -> Path:
        """Which node ENDPOINT ('db', 'cache') forwards to (nginx includes it)."""
        return self.conf / f"{endpoint}-endpoint.conf"

    @property
    def db_path_state(self) -> Path:
        """The delay the db-path keeps across its restarts, and who set it."""
        return self.root / "db-path.json"

    @property
    def db_path_socket(self) -> Path:
        """The control socket of the network path from the LMS to the DB endpoint."""
        return self.run / "db-path.sock"

    def db_socket(self, node: str) -> Path:
        return self.run / f"{node}.sock"

    def db_datadir(self, node: str) -> Path:
        return self.data / node

    def db_tmpdir(self, node: str) -> Path:
        return self.data / f"{node}-tmp"

    @property
    def rules_file(self) -> Path:
        """The Prometheus rules generated from the SLO catalog."""
        return self.conf / "slo-rules.yaml"

    @property
    def pages_log(self) -> Path:
        """What the sandbox's pager received and who acknowledged it (sandbox.pager)."""
        return self.logs / "pages.jsonl"

    @property
    def pager_url(self) -> str:
        return f"http://127.0.0.1:{self.port('pager')}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.port('prometheus')}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://127.0.0.1:{self.port('alertmanager')}"

    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.port('lb')}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self.port('cdn')}"


def layout_for(env_file: str, state_dir: str | None = None,
               port_base: int | None = None) -> Layout:
    """The sandbox of ENV_FILE (the default one falls back to the shipped inventory), with
    the command line's overrides; UserError otherwise."""
    context = environment_context(env_file)
    env, env_file = context.environment, context.env_file
    if env.driver != "sandbox":
        raise UserError(f"the environment '{env.name}' uses the '{env.driver}' driver; the "
                        "sandbox commands need a sandbox environment", file=env_file,
                        field="driver")
    # --state-dir is the command line's: relative to the working directory.
    cwd_state = str(Path(state_dir).expanduser().absolute()) if state_dir else None
    overrides = {k: v for k, v in (("state_dir", cwd_state), ("port_base", port_base))
                 if v is not None}
    try:
        settings = SandboxSettings.model_validate({**env.sandbox.model_dump(), **overrides})
    except ValidationError as err:
        flag = "--" + str(err.errors()[0]["loc"][0]).replace("_", "-")
        raise validation_error(f"{env_file} (with {flag})", err) from None
    return Layout.of_inventory(settings, env_file)
