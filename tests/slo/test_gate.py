"""The error-budget gate, reading budgets from New Relic's NRQL through the wire-level
fake NerdGraph (tests/newrelic.py: no New Relic can run here), then refusing a real
`edx-gameday run` against the sandbox before anything starts."""

import time
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.context import environment_context
from chaoslib_edx.errors import UserError
from chaoslib_edx.gameday.schema import load_gameday
from chaoslib_edx.slo import gate
from chaoslib_edx.slo.catalog import load_catalog
from tests.conftest import REPO, compressed_gameday, one_paragraph, run_cli, write_yaml
from tests.newrelic import FakeNerdGraph, NerdGraphAccount

ACCOUNT, KEY = 123456, "NRAK-budget"
TOTAL = "SELECT count(*) FROM Transaction WHERE name LIKE '%login%'"
GOOD = f"{TOTAL} AND httpResponseCode < 500"
DAY_MS = 86400 * 1000


def _events(bad: int, total: int = 1_000_000, old_bad: int = 0) -> dict:
    """Sign-ins over the last day: TOTAL of them, BAD failed; OLD_BAD more failures 31
    days ago, outside the 30-day period."""
    now = int(time.time() * 1000)
    return {TOTAL: [(now - DAY_MS, total), (now - 31 * DAY_MS, old_bad)],
            GOOD: [(now - DAY_MS, total - bad)],
            "SELECT count(*) FROM Transaction": [(now - DAY_MS, total)]}


def _catalog(tmp_path: Path) -> Path:
    """The shipped catalog, authentication (objective 99.99%) with NRQL queries."""
    catalog = yaml.safe_load((REPO / "gamedays/slos.yaml").read_text())
    for slo in catalog["slos"]:
        if slo["name"] == "authentication":
            slo["newrelic"] = {"good": GOOD, "total": TOTAL}
    return write_yaml(tmp_path / "slos.yaml", catalog)


def _inventory(path: Path, base: dict, url: str) -> Path:
    """BASE with New Relic's account as detection.newrelic, its key in EDX_TEST_NR_KEY."""
    return write_yaml(path, {**base, "detection": {"newrelic": {
        "account_id": ACCOUNT, "api_key_env": "EDX_TEST_NR_KEY", "base_url": f"{url}/graphql",
        "conditions": {"Login failures": {"slo": "authentication"}}}}})


@pytest.fixture
def nerdgraph(monkeypatch):
    monkeypatch.setenv("EDX_TEST_NR_KEY", KEY)
    with FakeNerdGraph(NerdGraphAccount(ACCOUNT, KEY, [], events=_events(bad=88))) as fake:
        yield fake


def _views(tmp_path: Path, nerdgraph) -> dict:
    env = _inventory(tmp_path / "staging.yaml", {
        "name": "staging", "kind": "staging", "driver": "aws", "aws": {"region": "eu-west-1"}},
        nerdgraph.url)
    return environment_context(str(env)).platform.server_views()


@pytest.mark.integration  # the fake NerdGraph is a server
def test_each_budget_is_read_over_its_period_and_a_spent_one_refuses(tmp_path, nerdgraph
                                                                     ) -> None:
    """88 failed sign-ins in a million spend 88% of a 99.99% SLO's budget: 12% left,
    below a 25% gate. Failures older than the 30-day period do not count."""
    nerdgraph.account.events = _events(bad=88, old_bad=5000)
    catalog = load_catalog(_catalog(tmp_path))
    views = _views(tmp_path, nerdgraph)
    spec = gate.BudgetGate(min_remaining=0.25, source="newrelic")
    (budget,) = gate.read(spec, catalog, ["lms-availability", "authentication"], views, [],
                          "gameday.yaml")
    assert budget.slo == "authentication" and budget.remaining == pytest.approx(0.12)
    assert not budget.passed and not budget.ignored
    with pytest.raises(UserError) as refused:
        gate.enforce(spec, [budget], "game day", "gameday.yaml")
    assert str(refused.value.message) == ("authentication has 12% of its 30-day budget "
                                          "left, below the game day's 25%")
    assert refused.value.field == "budget_gate"
    # A human passes it by name: recorded as such, and the gate lets the run start.
    (passed,) = gate.read(spec, catalog, ["authentication"], views, ["authentication"],
                          "gameday.yaml")
    assert passed.ignored and not passed.passed
    gate.enforce(spec, [passed], "game day", "gameday.yaml")
    # Above the gate: passes on its own.
    nerdgraph.account.events = _events(bad=10)
    (healthy,) = gate.read(spec, catalog, ["authentication"], views, [], "gameday.yaml")
    assert healthy.passed and healthy.remaining == pytest.approx(0.9)
    # Overspent, and no data at all (unknown: refused, never taken for a full budget).
    for events, text in ((_events(bad=250), "authentication has spent its 30-day budget "
                                            "(250% of it)"),
                         ({}, "authentication's 30-day budget left is unknown (newrelic has "
                              "no data over the period)")):
        nerdgraph.account.events = {**events, TOTAL: events.get(TOTAL, [])}
        (budget,) = gate.read(spec, catalog, ["authentication"], views, [], "gameday.yaml")
        assert budget.text("newrelic") == text and not budget.passed


@pytest.mark.integration  # the fake NerdGraph is a server
def test_bad_gate_input_is_refused_naming_the_field(tmp_path, nerdgraph) -> None:
    catalog = load_catalog(_catalog(tmp_path))
    views = _views(tmp_path, nerdgraph)
    cases = [(gate.BudgetGate(min_remaining=0.25, source="prometheus"), [],
              "budget_gate.source", "the environment has no prometheus to read budgets "
                                    "from (it has: newrelic, cloudwatch)"),
             (gate.BudgetGate(min_remaining=0.25, source="newrelic", slos=["api-latency"]), [],
              "budget_gate.slos", "newrelic has no query for api-latency in the catalog"),
             (gate.BudgetGate(min_remaining=0.25, source="newrelic"), ["api-latency"],
              "budget_gate.slos", "--ignore-budget-gate api-latency: the gate holds no such "
                                  "SLO (it gates authentication)")]
    cases.append((None, ["authentication"], "budget_gate",
                  "--ignore-budget-gate authentication: there is no budget_gate to pass"))
    for spec, ignore, field, words in cases:
        with pytest.raises(UserError) as err:
            gate.check(spec, catalog, ["api-latency", "authentication"], lambda: views,
                       ignore, "g.yaml")
        assert err.value.field == field and words in err.value.message, err.value.message
    assert gate.check(None, catalog, ["authentication"], lambda: views, [], "g.yaml") == []


def _sandbox_with_newrelic(tmp_path: Path, sandbox, nerdgraph) -> tuple[Path, Path]:
    """A compressed game day gated on authentication's budget through New Relic, against
    the sandbox inventory with New Relic's account added."""
    env = _inventory(tmp_path / "sandbox.yaml", yaml.safe_load(sandbox.env_file.read_text()),
                     nerdgraph.url)
    path = compressed_gameday(tmp_path, sandbox, [("lms-pod-kill", 0)],
                              catalog=str(_catalog(tmp_path)),
                              slos=("lms-availability", "authentication"))
    spec = yaml.safe_load(path.read_text())
    spec.update(environment=str(env), budget_gate={"min_remaining": 0.25,
                                                   "source": "newrelic"})
    return write_yaml(path, spec), env


def _programs(sandbox) -> dict:
    """Each sandbox program's state and pid: a fault would stop or replace one."""
    return {name: (p["state"], p["pid"]) for name, p in sandbox.status()["programs"].items()}


def test_a_spent_budget_refuses_the_game_day_before_anything_starts(sandbox, tmp_path,
                                                                    nerdgraph) -> None:
    path, env = _sandbox_with_newrelic(tmp_path, sandbox, nerdgraph)
    assert load_gameday(path).spec.budget_gate.source == "newrelic"
    run_dir, ledger = tmp_path / "run", tmp_path / "ledger.jsonl"
    before = _programs(sandbox)
    result = run_cli("run", str(path), "--out", str(run_dir),
                     env={"EDX_LEDGER": str(ledger)})
    message = one_paragraph(result.stderr)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "authentication has 12% of its 30-day budget left, below the game day's 25%" \
        in message and "budget_gate" in message and "--ignore-budget-gate" in message
    # Nothing started: no run directory (no load, no report), no ledger line, no fault.
    assert not run_dir.exists() and not ledger.exists()
    assert _programs(sandbox) == before

    dry = run_cli("run", str(path), "--dry-run", env={"EDX_LEDGER": str(ledger)})
    assert dry.returncode == 2, dry.stdout + dry.stderr
    assert "budget: authentication has 12% of its 30-day budget left (the game day's " \
           "gate: 25%; REFUSED)" in dry.stdout
    passed = run_cli("run", str(path), "--dry-run", "--ignore-budget-gate", "authentication",
                     env={"EDX_LEDGER": str(ledger)})
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "budget: authentication has 12% of its 30-day budget left (the game day's " \
           "gate: 25%; below, passed by --ignore-budget-gate)" in passed.stdout
    nerdgraph.account.events = _events(bad=10)
    healthy = run_cli("run", str(path), "--dry-run", env={"EDX_LEDGER": str(ledger)})
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "budget: authentication has 90% of its 30-day budget left (the game day's " \
           "gate: 25%; ok)" in healthy.stdout
    assert not run_dir.exists() and not ledger.exists()


def test_a_capacity_plan_is_gated_the_same_way(sandbox, tmp_path, nerdgraph) -> None:
    _, env = _sandbox_with_newrelic(tmp_path, sandbox, nerdgraph)
    plan = yaml.safe_load((REPO / "gamedays/capacity-enrollment-peak.yaml").read_text())
    plan.update(environment=str(env), slo_catalog=str(_catalog(tmp_path)),
                slos=["authentication"], degraded=[],
                budget_gate={"min_remaining": 0.25, "source": "newrelic"})
    plan["load"]["profile"] = str(REPO / "loadprofiles/open_launch.py")
    path = write_yaml(tmp_path / "plan.yaml", plan)
    run_dir = tmp_path / "capacity"
    result = run_cli("capacity", str(path), "--out", str(run_dir),
                     env={"EDX_LEDGER": str(tmp_path / "ledger.jsonl")})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "authentication has 12% of its 30-day budget left, below the capacity plan's " \
           "25%" in one_paragraph(result.stderr)
    assert not run_dir.exists()
