"""Crawls on Scrapyd nodes (issue 16): `cluster_jobs`, one row per job the planner
scheduled, with its node, Scrapyd job id, state and run.

Revision ID: 0013_cluster_jobs
Revises: 0012_reparse
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_cluster_jobs"
down_revision = "0012_reparse"
branch_labels = None
depends_on = None

# A frozen copy of storage.types' timestamp: migrations must not change when the models do.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cluster_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("scheduled_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("crawl_runs.id"), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_cluster_jobs_state", "cluster_jobs", ["state"])


def downgrade() -> None:
    op.drop_table("cluster_jobs")
