"""The history's tables (SQLAlchemy 2). The schema changes only through a new Alembic
revision in migrations/versions, never here alone: a test compares the two."""

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Run(Base):
    """One game day or capacity run, as its report summarized it."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(200), unique=True)  # run id, else the dir
    kind: Mapped[str] = mapped_column(String(20))                  # gameday | capacity
    name: Mapped[str] = mapped_column(String(200))
    environment: Mapped[str] = mapped_column(String(200))
    series: Mapped[str] = mapped_column(String(64))  # same name, env and experiment list
    status: Mapped[str] = mapped_column(String(40))
    started: Mapped[str | None] = mapped_column(String(40))
    ended: Mapped[str | None] = mapped_column(String(40))
    platform_version: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)  # where it was read from (a run directory)
    experiments: Mapped[list["ExperimentResult"]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ExperimentResult.position")
    slos: Mapped[list["SloResult"]] = relationship(back_populates="run",
                                                   cascade="all, delete-orphan")
    sweeps: Mapped[list["SweepResult"]] = relationship(back_populates="run",
                                                       cascade="all, delete-orphan")


class ExperimentResult(Base):
    """A game day's experiment: its verdict and how its fault was detected."""

    __tablename__ = "experiment_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    experiment: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(Text)
    detection: Mapped[str | None] = mapped_column(Text)  # detected, undetected, unknown: ...
    detect_s: Mapped[float | None] = mapped_column(Float)
    page_s: Mapped[float | None] = mapped_column(Float)
    ack_s: Mapped[float | None] = mapped_column(Float)
    slos_during: Mapped[dict] = mapped_column(JSON)  # slo -> value, met, burn rate during
    run: Mapped[Run] = relationship(back_populates="experiments")
    __table_args__ = (UniqueConstraint("run_id", "experiment"),)


class SloResult(Base):
    """An SLO over a whole game day: its value and the budget the run burned."""

    __tablename__ = "slo_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    slo: Mapped[str] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    met: Mapped[bool | None]
    budget_burned: Mapped[float | None] = mapped_column(Float)
    run: Mapped[Run] = relationship(back_populates="slos")
    __table_args__ = (UniqueConstraint("run_id", "slo"),)


class SweepResult(Base):
    """A capacity run's sweep: its knee and the first SLO to break."""

    __tablename__ = "sweep_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    sweep: Mapped[str] = mapped_column(String(200))
    knee_rate: Mapped[float | None] = mapped_column(Float)
    first_break_rate: Mapped[float | None] = mapped_column(Float)
    first_break_slos: Mapped[list] = mapped_column(JSON)
    headroom_holds: Mapped[bool | None]  # the knee against the plan's headroom target
    run: Mapped[Run] = relationship(back_populates="sweeps")
    __table_args__ = (UniqueConstraint("run_id", "sweep"),)


class FiledFinding(Base):
    """A finding filed in the team's tracker (Jira): its issue, and whether the tracker
    was told of the run that fixed it."""

    __tablename__ = "filed_findings"
    finding_key: Mapped[str] = mapped_column(String(600), primary_key=True)
    issue_key: Mapped[str] = mapped_column(String(64))
    fixed_run: Mapped[str | None] = mapped_column(String(200))  # commented as fixed by
