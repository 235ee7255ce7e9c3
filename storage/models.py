"""The archive's tables (SQLAlchemy 2 typed declarative).

This module describes the schema at the latest migration; the migrations in
`storage/migrations/` are what actually create it, and a test checks the two agree.

Full-text search can be added later by a migration alone: `article_versions` has an integer
primary key and plain text columns (title, lead, body), which is what an SQLite FTS5
external-content table (`content='article_versions', content_rowid='id'`, kept in sync by
triggers) or a PostgreSQL generated `tsvector` column with a GIN index needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import JSONType, UTCDateTime, utcnow

# Explicit constraint names: SQLite batch migrations and PostgreSQL both need stable names.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ARTICLE_STATUSES = ("live", "gone", "redirected")
RUN_STATUSES = ("running", "completed", "failed", "skipped", "timed_out", "interrupted")
RUN_TRIGGERS = ("manual", "scheduled")
OUTCOMES = (
    "new_article",
    "new_version",
    "unchanged",
    "not_modified",
    "gone",
    "error",
    "parse_failure",
    "suspect",
)
# The counter columns of crawl_runs (CrawlRun below), the one list that counting
# (storage/runs.py), run summaries and listings derive from. First what became of the pages
# (a run's summary line), then what the crawler counts besides.
RUN_PAGE_COUNTERS = (
    "pages_fetched",
    "not_modified",
    "new_articles",
    "new_versions",
    "unchanged",
    "gone",
    "errors",
    "parse_failures",
    "suspect",
)
RUN_COUNTERS = RUN_PAGE_COUNTERS + ("retries", "robots_skipped")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    base_url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    """One article of a site, identified by the site's own id (stable across slug changes)."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("site_id", "article_id", name="uq_articles_site_article"),
        Index("ix_articles_site_status_checked", "site_id", "status", "last_checked"),
        Index("ix_articles_published_at", "published_at"),  # listings (migration 0003)
        Index("ix_articles_last_changed", "last_changed"),  # listing orders (migration 0004)
        Index("ix_articles_current_version_id", "current_version", "id"),  # (migration 0008)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    article_id: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(String(2048))  # current canonical URL
    section: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="live")
    # 0 until the first version exists (an article can be known from a failed parse only).
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None]
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_checked: Mapped[datetime | None]
    last_changed: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))  # HTTP date, sent back as is


class ArticleUrl(Base):
    """Every URL an article was seen under (slugs change when titles are edited)."""

    __tablename__ = "article_urls"
    __table_args__ = (UniqueConstraint("article_id", "url", name="uq_article_urls_article_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class RawPage(Base):
    """Fetched bytes, content-addressed: identical pages are stored once."""

    __tablename__ = "raw_pages"
    # Finds the compression dictionary (a raw page of its own content type) without a scan.
    __table_args__ = (Index("ix_raw_pages_content_type_stored", "content_type", "stored_at"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)  # of the uncompressed bytes
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]  # uncompressed
    # "zstd", "none", or "zd:<dictionary sha256 prefix>" (storage/compression.py)
    compression: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str | None] = mapped_column(String(128))
    encoding: Mapped[str | None] = mapped_column(String(64))
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleVersion(Base):
    """One distinct state of an article. The record's columns (url ... parser_version) are
    storage/record.py's VERSION_FIELDS; text fields are stored normalised (see versioning.py),
    exactly as they were hashed; the raw page allows re-parsing with a better parser."""

    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "version", name="uq_article_versions_article_version"),
        Index("ix_article_versions_article_hash", "article_id", "content_hash"),
        Index("ix_article_versions_parser_fingerprint", "parser_fingerprint"),  # (0012)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    # Hashed fields that differ from the previous version; ["*"] for version 1.
    changed_fields: Mapped[list[Any]]
    fetched_at: Mapped[datetime]
    parser_version: Mapped[str | None] = mapped_column(String(32))
    raw_page_sha: Mapped[str | None] = mapped_column(ForeignKey("raw_pages.sha256"))

    url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str | None] = mapped_column(String(2048))
    section: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str | None] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[Any]]
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    paywalled: Mapped[bool] = mapped_column(Boolean, default=False)
    paywall_percent: Mapped[int | None]
    body_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list[Any]]
    image: Mapped[dict[str, Any] | None]
    related: Mapped[list[Any]]
    word_count: Mapped[int | None]
    sources: Mapped[dict[str, Any] | None]
    # What changed against the previous version (storage/changes.py; migration 0009).
    change_summary: Mapped[dict[str, Any] | None]
    # The parser settings that made the record (crawler/parsers/profile.py: fingerprint), and
    # whether a re-parse found it equal to the version before it (storage/reparse.py; 0012).
    parser_fingerprint: Mapped[str | None] = mapped_column(String(64))
    artefact: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))
    options: Mapped[dict[str, Any] | None]

    pages_fetched: Mapped[int] = mapped_column(default=0)
    not_modified: Mapped[int] = mapped_column(default=0)
    new_articles: Mapped[int] = mapped_column(default=0)
    new_versions: Mapped[int] = mapped_column(default=0)  # first versions included
    unchanged: Mapped[int] = mapped_column(default=0)
    gone: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    parse_failures: Mapped[int] = mapped_column(default=0)
    suspect: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    robots_skipped: Mapped[int] = mapped_column(default=0)
    errors_by_kind: Mapped[dict[str, Any] | None]

    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    coverage: Mapped[dict[str, Any] | None]  # field -> share of parsed pages that had it
    note: Mapped[str | None] = mapped_column(Text)


class FetchEvent(Base):
    """One row per fetch and what came of it. Suspect pages and parse failures keep their raw
    HTML (and the parsed record, if any) so they can be inspected or accepted later."""

    __tablename__ = "fetch_events"
    __table_args__ = (
        Index("ix_fetch_events_run", "run_id"),
        Index("ix_fetch_events_article", "article_id"),
        Index("ix_fetch_events_outcome", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(2048))
    http_status: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(16))
    version: Mapped[int | None]  # the version created, or the current one when unchanged
    content_hash: Mapped[str | None] = mapped_column(String(64))
    changed_fields: Mapped[list[Any] | None]
    error_kind: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    raw_page_sha: Mapped[str | None] = mapped_column(ForeignKey("raw_pages.sha256"))
    record: Mapped[dict[str, Any] | None]  # the parsed record, kept for suspect outcomes
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlLease(Base):
    """A named lock with expiry, shared by scheduled and manual runs (and several machines)."""

    __tablename__ = "crawl_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))
    acquired_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ChangeEvent(Base):
    """A typed change event (storage/events.py), written with the version it describes;
    operational events (a failed or degraded run) have no article."""

    __tablename__ = "change_events"
    __table_args__ = (
        Index("ix_change_events_article", "article_id"),
        Index("ix_change_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # stable id (events.event_key)
    type: Mapped[str] = mapped_column(String(32))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int | None]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any] | None]


class OutboxRow(Base):
    """One delivery of an event to a subscription (by name: subscriptions and their secrets
    live in the configuration, never here). storage/outbox.py claims and marks them."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription", name="uq_outbox_event_subscription"),
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("change_events.id", ondelete="CASCADE"))
    subscription: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]


class NotifyCursor(Base):
    """How far each subscription's outbox rows have been made: events after `last_event_id`
    are still to be matched against it."""

    __tablename__ = "notify_cursors"

    subscription: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


REPARSE_STATUSES = ("running", "completed", "failed", "interrupted", "abandoned")


class ReparseJob(Base):
    """One `newsmon reparse` (storage/reparse_jobs.py): its options, how far it got (`cursor`:
    the last article id whose work is committed) and its counts so far."""

    __tablename__ = "reparse_jobs"
    __table_args__ = (Index("ix_reparse_jobs_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    options: Mapped[dict[str, Any] | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))
    cursor: Mapped[int] = mapped_column(default=0, server_default="0")
    counts: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(Text)


class SupersededRecord(Base):
    """A version's record as it was before a re-parse replaced it (storage/reparse.py)."""

    __tablename__ = "superseded_records"
    __table_args__ = (Index("ix_superseded_records_version", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("article_versions.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    # The replaced columns: the record's fields, content_hash, changed_fields,
    # change_summary, artefact (dates as ISO strings).
    record: Mapped[dict[str, Any]]
    parser_fingerprint: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("reparse_jobs.id"))
    superseded_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)


class ClusterJob(Base):
    """A crawl the planner handed to a Scrapyd node (storage/cluster.py): the node, Scrapyd's
    job id and, once the crawl opened it, its run. `state` is "scheduled" until the planner
    sees the job end ("done") or lose its node ("failed", with the reason in `note`)."""

    __tablename__ = "cluster_jobs"
    __table_args__ = (Index("ix_cluster_jobs_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    node: Mapped[str] = mapped_column(String(255))
    job: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    scheduled_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    note: Mapped[str | None] = mapped_column(Text)
