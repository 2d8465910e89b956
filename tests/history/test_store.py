"""The history store on SQLite and on a real PostgreSQL server (tests/postgres.py): runs
recorded and read back, recording again changes nothing, a changed report updates its run,
a database made by the first schema version upgrades with its history kept, and the
models agree with the migrations."""

import json
import os
import shutil
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chaoslib_edx.errors import UserError
from chaoslib_edx.history.models import Base
from chaoslib_edx.history.rundirs import record_of
from chaoslib_edx.history.store import History, open_history
from tests.conftest import REPO

EXAMPLES = REPO / "docs/examples"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path) -> tuple[str, str | None]:
    """A new, empty database of each backend: its URL and its password's variable."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}", None
    server, password_env = request.getfixturevalue("postgres")
    name = f"history_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.replace("+psycopg", ""), password=os.environ[password_env],
                         autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{server.rsplit('/', 1)[0]}/{name}", password_env


def _open(url: tuple[str, str | None], revision: str = "head") -> History:
    history = History(url[0], os.environ[url[1]] if url[1] else None)
    history.migrate(revision)
    return history


def test_runs_are_recorded_once_and_read_back(url) -> None:
    history = _open(url)
    gameday, capacity = record_of(EXAMPLES / "course-launch"), \
        record_of(EXAMPLES / "capacity-enrollment-peak")
    assert [history.record(r) for r in (gameday, capacity)] == ["added", "added"]
    assert [history.record(r) for r in (gameday, capacity)] == ["unchanged", "unchanged"]
    runs = history.runs()
    assert runs == [gameday, capacity]  # exactly what was recorded, oldest first
    assert [e["experiment"] for e in runs[0]["experiments"]] == [
        "rds-failover", "redis-eviction", "lms-pod-kill", "cloudfront-origin-loss",
        "database-degradation"]
    assert runs[0]["experiments"][1]["detection"] == "undetected"
    assert runs[0]["experiments"][0]["detect_s"] == pytest.approx(3.923)
    assert {s["sweep"]: s["knee_rate"] for s in runs[1]["sweeps"]} == \
        {"normal": 800.0, "database-slow": 400.0}
    assert history.runs(name="Course launch") == [gameday]
    assert history.runs(environment="staging") == []


def test_a_report_rendered_again_updates_its_run(url, tmp_path) -> None:
    """A crashed run re-rendered by `recover`: the same run, its new status."""
    history = _open(url)
    run = tmp_path / "run"
    shutil.copytree(EXAMPLES / "course-launch", run)
    assert history.record(record_of(run)) == "added"
    summary = json.loads((run / "summary.json").read_text())
    summary["status"] = "crashed"
    (run / "summary.json").write_text(json.dumps(summary))
    assert history.record(record_of(run)) == "updated"
    (kept,) = history.runs()
    assert kept["status"] == "crashed" and len(kept["experiments"]) == 5


def test_a_database_of_the_first_schema_upgrades_with_its_history(url) -> None:
    first = _open(url, "0001")
    with first.engine.begin() as db:
        db.execute(sa.text(
            "INSERT INTO runs (run_key, kind, name, environment, series, status, started, "
            "ended, source) VALUES ('old-run', 'gameday', 'Course launch', 'sandbox', 's1', "
            "'completed', '2026-03-01T10:00:00+00:00', NULL, '/srv/runs/old')"))
        db.execute(sa.text(
            "INSERT INTO experiment_results (run_id, position, experiment, verdict, detection,"
            " detect_s, slos_during) SELECT id, 0, 'redis-eviction', 'held', 'undetected', "
            "NULL, '{}' FROM runs"))
    assert "platform_version" not in {c["name"] for c in
                                      sa.inspect(first.engine).get_columns("runs")}
    history = _open(url)  # the store opens at the newest schema: the upgrade
    (old,) = history.runs()
    assert (old["run_key"], old["platform_version"]) == ("old-run", None)
    assert old["experiments"][0]["detection"] == "undetected"
    assert history.record(record_of(EXAMPLES / "course-launch")) == "added"


def test_the_models_agree_with_the_migrations(url) -> None:
    history = _open(url)
    with history.engine.connect() as db:
        assert compare_metadata(MigrationContext.configure(db), Base.metadata) == []


def test_the_default_history_is_sqlite_in_the_state_dir(tmp_path) -> None:
    history = open_history(None, None, tmp_path / "state")
    assert (tmp_path / "state/history.sqlite").is_file()
    assert history.runs() == []


def test_a_missing_password_or_a_bad_url_names_the_field(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("EDX_NO_SUCH_PASSWORD", raising=False)
    with pytest.raises(UserError) as err:
        open_history("postgresql://edx@127.0.0.1:1/h", "EDX_NO_SUCH_PASSWORD", tmp_path)
    assert err.value.field == "history.password_env" and "EDX_NO_SUCH_PASSWORD" in str(err.value)
    with pytest.raises(UserError) as err:
        History("not a url")
    assert err.value.field == "history.url"
