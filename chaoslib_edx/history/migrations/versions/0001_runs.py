"""The first schema: runs, their experiments and SLOs, capacity sweeps."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("environment", sa.String(200), nullable=False),
        sa.Column("series", sa.String(64), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("started", sa.String(40)),
        sa.Column("ended", sa.String(40)),
        sa.Column("source", sa.Text, nullable=False))
    op.create_table(
        "experiment_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("experiment", sa.String(200), nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
        sa.Column("detection", sa.Text),
        sa.Column("detect_s", sa.Float), sa.Column("page_s", sa.Float),
        sa.Column("ack_s", sa.Float),
        sa.Column("slos_during", sa.JSON, nullable=False),
        sa.UniqueConstraint("run_id", "experiment"))
    op.create_table(
        "slo_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("slo", sa.String(200), nullable=False),
        sa.Column("value", sa.Float), sa.Column("met", sa.Boolean),
        sa.Column("budget_burned", sa.Float),
        sa.UniqueConstraint("run_id", "slo"))
    op.create_table(
        "sweep_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("sweep", sa.String(200), nullable=False),
        sa.Column("knee_rate", sa.Float), sa.Column("first_break_rate", sa.Float),
        sa.Column("first_break_slos", sa.JSON, nullable=False),
        sa.UniqueConstraint("run_id", "sweep"))


def downgrade() -> None:
    for table in ("sweep_results", "slo_results", "experiment_results", "runs"):
        op.drop_table(table)
