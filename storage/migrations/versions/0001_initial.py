"""Initial schema: sites, articles and their URLs, versions, raw pages, crawl runs.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of storage.types: migrations must not change when the models do.
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("base_url", sa.String(512), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
        sa.UniqueConstraint("name", name="uq_sites_name"),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.String(128), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("section", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_checked", TS, nullable=True),
        sa.Column("last_changed", TS, nullable=True),
        sa.Column("next_check", TS, nullable=True),
        sa.Column("etag", sa.String(512), nullable=True),
        sa.Column("last_modified", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_articles_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("site_id", "article_id", name="uq_articles_site_article"),
    )
    op.create_table(
        "article_urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_urls_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_article_urls"),
        sa.UniqueConstraint("article_id", "url", name="uq_article_urls_article_url"),
    )
    op.create_table(
        "raw_pages",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("compression", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=True),
        sa.Column("encoding", sa.String(64), nullable=True),
        sa.Column("stored_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_raw_pages"),
    )
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("changed_fields", JSON, nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("parser_version", sa.String(32), nullable=True),
        sa.Column("raw_page_sha", sa.String(64), nullable=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("canonical_url", sa.String(2048), nullable=True),
        sa.Column("section", sa.String(128), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("lead", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("authors", JSON, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=True),
        sa.Column("paywalled", sa.Boolean(), nullable=False),
        sa.Column("paywall_percent", sa.Integer(), nullable=True),
        sa.Column("body_complete", sa.Boolean(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("image", JSON, nullable=True),
        sa.Column("related", JSON, nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=True),
        sa.Column("sources", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_versions_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["raw_page_sha"],
            ["raw_pages.sha256"],
            name="fk_article_versions_raw_page_sha_raw_pages",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_article_versions"),
        sa.UniqueConstraint("article_id", "version", name="uq_article_versions_article_version"),
    )
    op.create_index(
        "ix_article_versions_article_hash", "article_versions", ["article_id", "content_hash"]
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("options", JSON, nullable=True),
        *[
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "pages_fetched",
                "not_modified",
                "new_articles",
                "new_versions",
                "unchanged",
                "gone",
                "errors",
                "parse_failures",
                "suspect",
                "retries",
                "robots_skipped",
            )
        ],
        sa.Column("errors_by_kind", JSON, nullable=True),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("coverage", JSON, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_crawl_runs_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_runs"),
    )


def downgrade() -> None:
    op.drop_table("crawl_runs")
    op.drop_index("ix_article_versions_article_hash", table_name="article_versions")
    op.drop_table("article_versions")
    op.drop_table("raw_pages")
    op.drop_table("article_urls")
    op.drop_table("articles")
    op.drop_table("sites")
