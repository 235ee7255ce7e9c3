"""Per-fetch events, the crawl lease, and indexes for revisit scheduling and run lookups.

Revision ID: 0002_fetch_events_lease
Revises: 0001_initial
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_fetch_events_lease"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fetch_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("changed_fields", JSON, nullable=True),
        sa.Column("error_kind", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("raw_page_sha", sa.String(64), nullable=True),
        sa.Column("record", JSON, nullable=True),
        sa.Column("fetched_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name="fk_fetch_events_run_id_crawl_runs"
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_fetch_events_article_id_articles",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["raw_page_sha"], ["raw_pages.sha256"], name="fk_fetch_events_raw_page_sha_raw_pages"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_fetch_events"),
    )
    op.create_index("ix_fetch_events_run", "fetch_events", ["run_id"])
    op.create_index("ix_fetch_events_article", "fetch_events", ["article_id"])
    op.create_index("ix_fetch_events_outcome", "fetch_events", ["outcome"])
    op.create_table(
        "crawl_lease",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_crawl_lease"),
    )
    op.create_index(
        "ix_articles_site_status_checked", "articles", ["site_id", "status", "last_checked"]
    )
    op.create_index("ix_crawl_runs_status", "crawl_runs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_crawl_runs_status", table_name="crawl_runs")
    op.drop_index("ix_articles_site_status_checked", table_name="articles")
    op.drop_table("crawl_lease")
    op.drop_index("ix_fetch_events_outcome", table_name="fetch_events")
    op.drop_index("ix_fetch_events_article", table_name="fetch_events")
    op.drop_index("ix_fetch_events_run", table_name="fetch_events")
    op.drop_table("fetch_events")
