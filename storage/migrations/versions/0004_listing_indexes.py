"""Indexes for the listing orders "changed" and "versions" (newsmon articles --order).

Without them SQLite sorts the whole archive, and its planner even starts from the large
article_versions table; with them a `LIMIT 50` listing reads 50 index entries.

Revision ID: 0004_listing_indexes
Revises: 0003_search
Create Date: 2026-11-27
"""

from alembic import op

revision = "0004_listing_indexes"
down_revision = "0003_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_last_changed", "articles", ["last_changed"])
    op.create_index("ix_articles_current_version", "articles", ["current_version"])


def downgrade() -> None:
    op.drop_index("ix_articles_current_version", table_name="articles")
    op.drop_index("ix_articles_last_changed", table_name="articles")
