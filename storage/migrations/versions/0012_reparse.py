"""Re-parsing the archive (issue 14): which parser made each version, artefacts, superseded
records and re-parse jobs.

- `article_versions.parser_fingerprint`: the parser settings that produced the record
  (package version, profile and dated variant, hash of its parser settings); NULL for
  versions stored before fingerprints existed (nothing can tell which settings made them).
- `article_versions.artefact`: a version whose content a later re-parse found equal to the
  version before it (a parser artefact, not an edit): kept, hidden from listings and diffs.
- `superseded_records`: the record a re-parse replaced, with its fingerprint, when and why.
- `reparse_jobs`: one row per `newsmon reparse`, with the cursor it resumes from.

Columns are added in place (no batch rebuild: rebuilding article_versions on SQLite would
drop the full-text triggers).

Revision ID: 0012_reparse
Revises: 0011_change_events
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012_reparse"
down_revision = "0011_change_events"
branch_labels = None
depends_on = None

# Frozen copies of storage.types: migrations must not change when the models do.
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("article_versions",
                  sa.Column("parser_fingerprint", sa.String(64), nullable=True))
    op.add_column("article_versions",
                  sa.Column("artefact", sa.Boolean, nullable=False,
                            server_default=sa.false()))
    op.create_index("ix_article_versions_parser_fingerprint", "article_versions",
                    ["parser_fingerprint"])
    op.create_table(
        "reparse_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("options", JSON, nullable=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("cursor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("counts", JSON, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_reparse_jobs_status", "reparse_jobs", ["status"])
    op.create_table(
        "superseded_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer,
                  sa.ForeignKey("article_versions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("article_id", sa.Integer,
                  sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("record", JSON, nullable=False),
        sa.Column("parser_fingerprint", sa.String(64), nullable=True),
        sa.Column("job_id", sa.Integer, sa.ForeignKey("reparse_jobs.id"), nullable=True),
        sa.Column("superseded_at", TS, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_superseded_records_version", "superseded_records", ["version_id"])


def downgrade() -> None:
    op.drop_table("superseded_records")
    op.drop_table("reparse_jobs")
    op.drop_index("ix_article_versions_parser_fingerprint", "article_versions")
    # Not a batch migration (see above). (ALTER TABLE ... DROP COLUMN needs SQLite 3.35.)
    op.drop_column("article_versions", "artefact")
    op.drop_column("article_versions", "parser_fingerprint")
