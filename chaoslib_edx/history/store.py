"""The history database: opened from the inventory (SQLite in the environment's state dir
unless `history.url` names another, PostgreSQL's password from an environment variable),
brought to the newest schema by Alembic, runs recorded and read."""

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, selectinload

from chaoslib_edx.errors import UserError
from chaoslib_edx.history.models import (
    ExperimentResult,
    FiledFinding,
    Run,
    SloResult,
    SweepResult,
)

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_FILE = "history.sqlite"  # in the environment's state dir


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class History:
    def __init__(self, url: str, password: str | None = None) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise UserError(f"'{url}' is not a database URL ({exc})", field="history.url") \
                from None
        if password is not None:
            parsed = parsed.set(password=password)
        self.url = parsed
        self.engine = create_engine(parsed)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to REVISION (the newest by default): history is kept."""
        try:
            with self.engine.begin() as connection:
                config = alembic_config(self.engine)
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except OperationalError as exc:
            raise UserError(f"cannot open the history database "
                            f"{self.url.render_as_string(hide_password=True)}: {exc.orig}",
                            field="history.url") from None

    def record(self, record: dict) -> str:
        """Record one run (a rundirs.record_of dict): "added", "updated" (its report
        changed: a crashed run rendered again after `recover`) or "unchanged"."""
        with Session(self.engine) as session, session.begin():
            old = session.scalar(select(Run).where(Run.run_key == record["run_key"])
                                 .options(selectinload(Run.experiments),
                                          selectinload(Run.slos), selectinload(Run.sweeps)))
            if old is not None and as_record(old) == record:
                return "unchanged"
            if old is not None:
                session.delete(old)
                session.flush()
            session.add(_run(record))
            return "updated" if old is not None else "added"

    def runs(self, environment: str | None = None, name: str | None = None) -> list[dict]:
        """Every run recorded (oldest first), as records; only ENVIRONMENT's or NAME's
        when given."""
        query = select(Run).options(selectinload(Run.experiments), selectinload(Run.slos),
                                    selectinload(Run.sweeps)).order_by(Run.started, Run.id)
        if environment:
            query = query.where(Run.environment == environment)
        if name:
            query = query.where(Run.name == name)
        with Session(self.engine) as session:
            return [as_record(run) for run in session.scalars(query)]


    def filed(self) -> dict[str, FiledFinding]:
        """The findings filed in the tracker, by finding key."""
        with Session(self.engine) as session:
            return {f.finding_key: f for f in session.scalars(select(FiledFinding))}

    def file(self, finding_key: str, issue_key: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(FiledFinding(finding_key=finding_key, issue_key=issue_key))

    def told_fixed(self, finding_key: str, run_key: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.get(FiledFinding, finding_key).fixed_run = run_key


_RUN_FIELDS = ("run_key", "kind", "name", "environment", "series", "status", "started",
               "ended", "platform_version", "source")
_EXPERIMENT_FIELDS = ("position", "experiment", "verdict", "detection", "detect_s",
                      "page_s", "ack_s", "slos_during")
_SLO_FIELDS = ("slo", "value", "met", "budget_burned")
_SWEEP_FIELDS = ("sweep", "knee_rate", "first_break_rate", "first_break_slos",
                 "headroom_holds")


def _run(record: dict) -> Run:
    return Run(**{f: record[f] for f in _RUN_FIELDS},
               experiments=[ExperimentResult(**{f: e[f] for f in _EXPERIMENT_FIELDS})
                            for e in record["experiments"]],
               slos=[SloResult(**{f: s[f] for f in _SLO_FIELDS}) for s in record["slos"]],
               sweeps=[SweepResult(**{f: s[f] for f in _SWEEP_FIELDS})
                       for s in record["sweeps"]])


def as_record(run: Run) -> dict:
    """RUN as the dict it was recorded from."""
    return {**{f: getattr(run, f) for f in _RUN_FIELDS},
            "experiments": [{f: getattr(e, f) for f in _EXPERIMENT_FIELDS}
                            for e in run.experiments],
            "slos": [{f: getattr(s, f) for f in _SLO_FIELDS}
                     for s in sorted(run.slos, key=lambda s: s.id)],
            "sweeps": [{f: getattr(s, f) for f in _SWEEP_FIELDS}
                       for s in sorted(run.sweeps, key=lambda s: s.id)]}


def open_history(url: str | None, password_env: str | None, state_dir: Path) -> History:
    """The environment's history, migrated: URL (its password from $PASSWORD_ENV), or
    SQLite in STATE_DIR."""
    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise UserError(f"${password_env} is not set (the history database's password)",
                            field="history.password_env")
    if url is None:
        state_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{state_dir / DEFAULT_FILE}"
    history = History(url, password)
    history.migrate()
    return history
