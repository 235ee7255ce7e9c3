"""Index raw pages by content type, so the compression dictionary is found without a scan.

Every new Archive (every crawl process) looks up the zstd dictionary stored among the raw pages
(storage/compression.py: content_type = application/x-zstd-dictionary). Without an index that
is a full scan of raw_pages, and on SQLite reading content_type, which follows the `data` blob
in the row, means walking every page's overflow chain: the whole archive, read once per run.

Revision ID: 0005_raw_pages_content_type
Revises: 0004_listing_indexes
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005_raw_pages_content_type"
down_revision = "0004_listing_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_raw_pages_content_type_stored", "raw_pages", ["content_type", "stored_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_raw_pages_content_type_stored", table_name="raw_pages")
