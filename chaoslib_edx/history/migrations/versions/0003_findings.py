"""Findings: a sweep's knee against the headroom target (a finding when below), and the
findings filed in the team's tracker with their issue keys."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("sweep_results") as batch:
        batch.add_column(sa.Column("headroom_holds", sa.Boolean))
    op.create_table(
        "filed_findings",
        sa.Column("finding_key", sa.String(600), primary_key=True),
        sa.Column("issue_key", sa.String(64), nullable=False),
        sa.Column("fixed_run", sa.String(200)))


def downgrade() -> None:
    op.drop_table("filed_findings")
    with op.batch_alter_table("sweep_results") as batch:
        batch.drop_column("headroom_holds")
