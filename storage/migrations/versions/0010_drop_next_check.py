"""Drop `articles.next_check`.

It was to hold when an article is next due, kept by writers given the site's revisit policy;
no crawl ever passed one, so it stayed empty. Due-ness is computed when a crawl starts
(storage/articles.py: due_articles, storage/revisit.py) from the facts that are stored (last
check, publication, last change, status), which also makes an edited `[revisit]` policy
apply to every article at once: a stored next_check would be stale until each article's next
check.

Revision ID: 0010_drop_next_check
Revises: 0009_change_summary
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_drop_next_check"
down_revision = "0009_change_summary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite rebuilds the table (a batch migration); PostgreSQL drops the column in place.
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("next_check")


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("next_check", sa.DateTime(timezone=True), nullable=True))
