"""Change events and the notification outbox (issue 13): `change_events`, `outbox`,
`notify_cursors`; events back-filled for the versions already stored.

The back-fill derives each version's content events (storage.events.derive_events) from the
stored columns and change summaries, as a crawl would have written them. It makes no outbox
rows: a subscription takes events from the first time a sender sees it, so old history is
never delivered.

Revision ID: 0011_change_events
Revises: 0010_drop_next_check
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage.events import derive_events, event_key
from storage.migrate import backfill_progress
from storage.versioning import normalise

revision = "0011_change_events"
down_revision = "0010_drop_next_check"
branch_labels = None
depends_on = None

# Frozen copies of storage.types: migrations must not change when the models do.
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)

BATCH = 500

_COLUMN_TYPES = {
    "title": sa.Text, "lead": sa.Text, "body": sa.Text, "section": sa.String,
    "authors": JSON, "tags": JSON, "image": JSON, "published_at": TS, "updated_at": TS,
    "paywalled": sa.Boolean, "paywall_percent": sa.Integer,
}


def upgrade() -> None:
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("article_id", sa.Integer,
                  sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("payload", JSON, nullable=True),
        sa.UniqueConstraint("key", name="uq_change_events_key"),
    )
    op.create_index("ix_change_events_article", "change_events", ["article_id"])
    op.create_index("ix_change_events_occurred_at", "change_events", ["occurred_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer,
                  sa.ForeignKey("change_events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("subscription", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.UniqueConstraint("event_id", "subscription", name="uq_outbox_event_subscription"),
    )
    op.create_index("ix_outbox_status_next_attempt", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "notify_cursors",
        sa.Column("subscription", sa.String(128), primary_key=True),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("notify_cursors")
    op.drop_table("outbox")
    op.drop_table("change_events")


def _backfill(conn) -> None:
    versions = sa.table(
        "article_versions",
        sa.column("article_id", sa.Integer), sa.column("version", sa.Integer),
        sa.column("fetched_at", TS), sa.column("change_summary", JSON),
        *(sa.column(name, kind) for name, kind in _COLUMN_TYPES.items()),
    )
    events = sa.table(
        "change_events",
        sa.column("key", sa.String), sa.column("type", sa.String),
        sa.column("article_id", sa.Integer), sa.column("version", sa.Integer),
        sa.column("occurred_at", TS), sa.column("payload", JSON),
    )
    key = sa.tuple_(versions.c.article_id, versions.c.version)
    read = (sa.select(versions.c.article_id, versions.c.version, versions.c.fetched_at,
                      versions.c.change_summary, *(versions.c[name] for name in _COLUMN_TYPES))
            .order_by(versions.c.article_id, versions.c.version).limit(BATCH))
    after = (0, 0)
    previous_article, previous = None, None
    total = conn.execute(sa.select(sa.func.count()).select_from(versions)).scalar()
    done = 0
    while True:
        rows = conn.execute(read.where(key > sa.tuple_(*after))).all()
        if not rows:
            return
        done += len(rows)
        backfill_progress("change events", done, total)
        out = []
        for row in rows:
            content = normalise({name: getattr(row, name) for name in _COLUMN_TYPES})
            before = previous if row.article_id == previous_article else None
            for event in derive_events(before, content, row.change_summary or {}):
                out.append({"key": event_key(event.type, article=row.article_id,
                                             version=row.version),
                            "type": event.type, "article_id": row.article_id,
                            "version": row.version, "occurred_at": row.fetched_at,
                            "payload": event.payload})
            previous_article, previous = row.article_id, content
        if out:
            conn.execute(sa.insert(events), out)
        after = (rows[-1].article_id, rows[-1].version)
