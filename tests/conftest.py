"""Shared fixtures and helpers: a real sandbox on free loopback ports driven through the
real CLI, the test tiers, and the small helpers many test modules use.

Tiers (`pytest -m unit|integration|sandbox`; `make test` runs all):
- sandbox: needs the real sandbox (MariaDB, Redis, nginx, LMS under supervisord);
- integration: other real servers or processes (moto server, the fake Kubernetes API,
  Locust, `chaos` and `edx-gameday` subprocesses);
- unit: none of that, in this process only; a unit test that listens on a socket or
  starts a process fails, so the tier stays under a minute.
A test's tier comes from its fixtures (sandbox, moto, fake Kubernetes) or its own mark.
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.environment import load_environment
from chaoslib_edx.ports import free_block, port_range
from chaoslib_edx.sandbox.layout import PORT_SPAN, Layout

REPO = Path(__file__).resolve().parent.parent


def _own_ports_per_worker() -> None:
    """Under pytest-xdist (`make test` runs 3 workers), each worker and everything it
    starts picks free ports from its own slice of the session's range (EDX_PORTS, default
    20000-30000; `make test` gives each interpreter's session its own): a sandbox's block
    holds ports it binds only later (the load master's), which another worker's check for
    listeners cannot see."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), \
        os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if worker and count:
        low, high = port_range()
        index, size = int(worker.removeprefix("gw")), (high - low) // int(count)
        os.environ["EDX_PORTS"] = f"{low + index * size}-{low + (index + 1) * size}"


_own_ports_per_worker()


@pytest.fixture(scope="session", autouse=True)
def _own_user_state(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each worker its own per-user state (locks and ledgers of inventories without a
    state dir): two workers' tests of an environment named 'staging' otherwise share one
    lock, and one refuses the other's run as a real second runner would."""
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("user-state"))


TIERS = ("unit", "integration", "sandbox")
_FIXTURE_TIERS = {"sandbox": "sandbox", "moto_endpoint": "integration", "eks": "integration",
                  "django_lms": "integration", "postgres": "integration"}


def pytest_configure(config: pytest.Config) -> None:
    for tier, what in (("unit", "no server and no subprocess (runs in under a minute)"),
                       ("integration", "real local servers or processes, not the sandbox"),
                       ("sandbox", "the real sandbox platform")):
        config.addinivalue_line("markers", f"{tier}: {what}")
    config.addinivalue_line("markers", "plain: runs the ecosystem's own commands unchanged "
                            "(chaos validate, chaos run, locust -f); run on every interpreter")


def pytest_report_header() -> str:
    """Which interpreter and which Chaos Toolkit and Locust this run tests."""
    versions = ", ".join(f"{name} {version(name)}" for name in
                         ("chaostoolkit", "chaostoolkit-lib", "locust"))
    return f"chaostoolkit-edx on Python {sys.version.split()[0]}: {versions}"


@pytest.hookimpl(tryfirst=True)  # before -m deselects on the markers added here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marked = [m.name for m in item.iter_markers() if m.name in TIERS]
        derived = {_FIXTURE_TIERS[f] for f in getattr(item, "fixturenames", ())
                   if f in _FIXTURE_TIERS}
        tier = "sandbox" if "sandbox" in derived | set(marked) else \
            "integration" if "integration" in derived | set(marked) else "unit"
        if tier not in marked:
            item.add_marker(tier)


_unit_test: list[str] = []  # the node id of the unit test running now, if one is


def _refuse_servers_in_unit_tests(event: str, args: tuple) -> None:
    """An audit hook (PEP 578), so nothing is patched: in a unit test, binding a socket (a
    server) or starting a Python process (our CLI, `chaos`, Locust) fails the test; short
    system commands (`uname`) stay allowed."""
    if not _unit_test:
        return
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        command = [argv] if isinstance(argv, (str, bytes, os.PathLike)) else list(argv or [])
        program = str(executable or (command[0] if command else ""))
        if not Path(program).name.startswith(("python", "locust", "chaos")):
            return
    elif event != "socket.bind":
        return
    raise AssertionError(f"{_unit_test[0]} is in the unit tier but starts a server or a "
                         "Python process: mark it @pytest.mark.integration")


sys.addaudithook(_refuse_servers_in_unit_tests)


@pytest.fixture(autouse=True)
def _unit_tier_starts_nothing(request: pytest.FixtureRequest):
    """Arms the audit hook above for the length of each unit test."""
    if request.node.get_closest_marker("unit") is not None:
        _unit_test.append(request.node.nodeid)
    yield
    _unit_test.clear()


@pytest.fixture(autouse=True)
def _sandbox_settled_first(request: pytest.FixtureRequest) -> None:
    """A test of the shared sandbox starts from a healthy one: the previous test's fault
    may still be healing (a killed replica back a moment ago, and Prometheus' next scrape
    of it due), which is that test's recovery, not this test's starting state. Bounded:
    a sandbox that does not heal fails here, naming what is failing."""
    if "sandbox" in request.fixturenames:
        from chaoslib_edx.sandbox.health import wait_healthy

        wait_healthy(request.getfixturevalue("sandbox").layout, timeout=60)


def one_paragraph(stderr: str) -> str:
    """An error paragraph as one line (the CLI wraps it for the terminal)."""
    return " ".join(stderr.split())


def write_yaml(path: Path, data: object) -> Path:
    """Write DATA as YAML to PATH (inventories, game days, experiments) and return PATH."""
    path.write_text(yaml.safe_dump(data))
    return path


def default_gameday_spec() -> dict:
    """The shipped course-launch game day as data, its relative paths made absolute, so a
    modified copy can be written anywhere."""
    path = REPO / "gamedays/course-launch.yaml"
    spec = yaml.safe_load(path.read_text())

    def absolute(value: str) -> str:
        return os.path.normpath(path.parent / value)

    spec["environment"], spec["slo_catalog"] = (absolute(spec["environment"]),
                                                absolute(spec["slo_catalog"]))
    spec["load"]["profile"] = absolute(spec["load"]["profile"])
    for step in spec["timeline"]:
        step["experiment"] = absolute(step["experiment"])
    return spec


def compressed_gameday(tmp_path: Path, sandbox: "Sandbox", timeline: list[tuple[str, float]],
                       *, catalog: str = str(REPO / "gamedays/slos.yaml"),
                       abort: list | None = None,
                       slos: tuple[str, ...] = ("lms-availability", "api-latency"),
                       warmup_s: int = 12) -> Path:
    """A game day of seconds against SANDBOX: TIMELINE is (shipped experiment name, or an
    experiment file's path; offset); every path absolute, so it runs from any directory.
    WARMUP_S: 12 gives the SLOs' 10 s steady-state windows their data; tests of the signal,
    crash and abort paths that judge no SLO before the fault take 5."""
    spec = {"name": "compressed launch", "description": "two faults, seconds apart",
            "environment": str(sandbox.env_file), "slo_catalog": catalog,
            "roles": {"game_master": "pytest", "on_call": ["ci"]},
            "load": {"warmup_s": warmup_s, "shape": {"baseline_users": 8, "peak_users": 8,
                                               "time_scale": 1}},
            "slos": list(slos), "abort": abort or [], "max_duration_s": 150,
            "timeline": [{"experiment": name if "/" in name
                          else str(REPO / "experiments" / f"{name}.yaml"),
                          "offset_s": offset, "observe_s": 3} for name, offset in timeline]}
    return write_yaml(tmp_path / "gameday.yaml", spec)


def held_origin_loss(tmp_path: Path, hold_s: int = 60) -> str:
    """The cheap real fault for the signal, crash and abort paths: the CDN's origin gone
    (one nginx edge reconfigured: no MariaDB, Redis or Prometheus in the fault or its
    rollback), held HOLD_S, no hypothesis. The database's own failover keeps its real
    SIGKILL + `recover` tests (tests/recovery, test_crash's kill from /)."""
    experiment = yaml.safe_load((REPO / "experiments/cloudfront-origin-loss.yaml").read_text())
    experiment["method"][0]["pauses"] = {"after": hold_s}
    experiment.pop("steady-state-hypothesis")
    return str(write_yaml(tmp_path / "held-origin-loss.yaml", experiment))


def slow_database_experiment(tmp_path: Path, name: str, latency_ms: int,
                             hold_s: int) -> str:
    """The shipped database slowdown with LATENCY_MS, live for HOLD_S, then its rollback."""
    experiment = yaml.safe_load((REPO / "experiments/database-degradation.yaml").read_text())
    slow = experiment["method"][0]
    slow["provider"]["arguments"].update(latency_ms=latency_ms, jitter_ms=0)
    slow["pauses"] = {"after": hold_s}
    experiment["method"] = [slow]
    experiment.pop("steady-state-hypothesis")
    return str(write_yaml(tmp_path / f"{name}.yaml", experiment))


def assert_witnessed(summary: dict) -> None:
    """A game day on a healthy sandbox has a witness for every verdict: no experiment
    inconclusive (its fault stayed live), no SLO without requests, over the run or while
    a fault was live."""
    assert [e["name"] for e in summary["experiments"]
            if e["verdict"].startswith("inconclusive")] == []
    assert [s["name"] for s in summary["slos"] if s["met"] is None] == []
    assert [(e["name"], name) for e in summary["experiments"]
            for name, row in e["slos"].items() if row["met_during"] is None] == []


def assert_exit_agrees(code: int, summary: dict, stderr: str) -> None:
    """A completed game day exits 1 exactly when its summary holds a finding (an experiment
    not held, an SLO missed or without data, a fault undetected or its detection unknown)
    and 0 otherwise; a crash's 1 (a Python traceback) is never taken for a finding."""
    assert "Traceback (most recent call last)" not in stderr, stderr[-3000:]
    findings = [e["name"] for e in summary["experiments"] if e["verdict"] != "held"] \
        + [s["name"] for s in summary["slos"] if s["met"] is not True] \
        + [row["experiment"] for row in summary.get("detection", [])
           if row["status"] == "undetected" or row["status"].startswith("unknown")] \
        + ([summary["detection_error"]] if summary.get("detection_error") else [])
    assert code == (1 if findings else 0), (code, findings, stderr[-3000:])


def tripping_gameday(tmp_path: Path, sandbox: "Sandbox") -> Path:
    """A compressed game day whose abort condition must trip once the fault is live: an
    impossible API p99 (under 1 microsecond) that every request breaches."""
    catalog = yaml.safe_load((REPO / "gamedays/slos.yaml").read_text())
    for slo in catalog["slos"]:
        if slo["name"] == "api-latency":
            slo["indicator"]["threshold_ms"] = 0.001
    write_yaml(tmp_path / "slos.yaml", catalog)
    return compressed_gameday(tmp_path, sandbox, [("cloudfront-origin-loss", 0)],
                              catalog=str(tmp_path / "slos.yaml"),
                              abort=[{"slo": "api-latency", "window_seconds": 5,
                                      "burn_rate_above": 50, "min_requests": 3}],
                              warmup_s=6)


def load_processes(metrics_file: Path) -> list:
    """Live processes (Locust) writing METRICS_FILE: the load of one run."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if str(metrics_file) in " ".join(proc.info["cmdline"] or []) \
                and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def program_pids(layout: Layout, group: str | None = None) -> dict[str, int]:
    """supervisord's programs (of GROUP) and their pids: what a refused fault must not change."""
    from chaoslib_edx.sandbox.supervisor import Supervisor

    return {i["name"]: i["pid"] for i in Supervisor(layout).processes()
            if group is None or i["group"] == group}


def run_cli(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `edx-gameday ARGS` in its own process, as a user would."""
    return subprocess.run([sys.executable, "-m", "chaoslib_edx", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def counting_reads(watched: Path, module: str, *args: str, env: dict | None = None,
                   timeout: float = 180) -> tuple[subprocess.CompletedProcess, int]:
    """Run `python -m MODULE ARGS` as run_cli does, and count its opens of WATCHED (an
    inventory) with an audit hook (tests/reads.py)."""
    count = Path(tempfile.mkstemp(prefix="reads-")[1])
    try:
        result = subprocess.run([sys.executable, str(REPO / "tests/reads.py"), str(watched),
                                 str(count), module, *args], cwd=REPO, capture_output=True,
                                text=True, timeout=timeout, env={**os.environ, **(env or {})})
        return result, int(count.read_text() or -1)
    finally:
        count.unlink(missing_ok=True)


def free_port_base() -> int:
    return free_block(PORT_SPAN)


def write_env(directory: Path, port_base: int, **sandbox: object) -> Path:
    """An environment file for a sandbox with its state under DIRECTORY."""
    settings = {"state_dir": str(directory / "state"), "port_base": port_base,
                "seed": {"courses": 4, "learners": 200}, **sandbox}
    path = directory / "sandbox.yaml"
    path.write_text(yaml.safe_dump({"name": "test-sandbox", "kind": "sandbox",
                                    "driver": "sandbox", "sandbox": settings}))
    return path


@dataclass
class Sandbox:
    env_file: Path
    layout: Layout

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return run_cli(*args, "--env", str(self.env_file))

    def configuration(self, tmp_path: Path) -> dict:
        """Chaos Toolkit configuration for activities against this sandbox."""
        return {"edx_environment": str(self.env_file),
                "edx_ledger": str(tmp_path / "ledger.jsonl")}

    def status(self) -> dict:
        result = self.cli("sandbox", "status", "--json")
        return json.loads(result.stdout)


def start_sandbox(directory: Path) -> Sandbox:
    env_file = write_env(directory, free_port_base())
    sandbox = Sandbox(env_file, Layout.from_settings(load_environment(env_file).sandbox))
    result = sandbox.cli("sandbox", "up")
    if result.returncode != 0:
        sandbox.cli("sandbox", "down")
        raise AssertionError(f"sandbox up failed: {result.stderr}{result.stdout}")
    return sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    """One running sandbox for the tests that inject faults and restore them."""
    box = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    yield box
    box.cli("sandbox", "down")


from tests.aws import aws_env, fis_steps, moto_endpoint  # noqa: E402,F401  (fixtures)
from tests.kube import eks  # noqa: E402,F401  (fixture)
from tests.postgres import postgres  # noqa: E402,F401  (fixture)


# The Django LMS's users: the sandbox's first learners (its seed password) and a staging's.
DJANGO_LEARNERS = [(f"learner{i}", "edx") for i in range(1, 7)] + \
    [(f"load-tester-{i}", f"pw-{i}") for i in range(1, 4)]


@pytest.fixture
def django_lms(tmp_path):
    """A minimal LMS on Django itself (tests/load/django_lms.py) on a free loopback port,
    its users DJANGO_LEARNERS; its base URL."""
    port = free_block(1)
    log = tmp_path / "django.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.load.django_lms", str(port),
             str(tmp_path / "django.sqlite3"), *(f"{u}:{p}" for u, p in DJANGO_LEARNERS)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert server.stdout.readline().strip() == "serving", log.read_text()[-2000:]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
