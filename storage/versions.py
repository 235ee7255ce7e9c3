"""Creating versions: the one path by which an article gets a new version, whoever decided it
(a crawl's fetch, an accepted suspect fetch, and later re-parsing of kept raw pages).

`decide()` applies the versioning rules (storage/versioning.py) to a record against the
article's current version; `create_version()` stores the decision: the version row, with
its columns taken from the archived record's field list (storage/record.py) and its change
summary (storage/changes.py), and the article's pointer to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage import versioning
from storage.changes import change_summary
from storage.models import Article, ArticleVersion
from storage.outbox import record_version_events
from storage.record import VERSION_FIELDS
from storage.rows import core_execute

_INSERT_VERSION = insert(ArticleVersion.__table__)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None


# How a version column is stored when it differs from the record's value: the normalised
# fields (versioning.normalise) as normalised, dates as instants; the rest as the parser
# gave them, made safe for their columns.
_AS_STORED = {
    "published_at": versioning.parse_instant,
    "updated_at": versioning.parse_instant,
    "parser_version": _text_or_none,
    "sources": _dict_or_none,
}


def stored_values(normalised: dict[str, Any], record: dict[str, Any],
                  url: str) -> dict[str, Any]:
    """The columns a version stores for `record` (its normalised fields `normalised`), under
    the article's `url`; re-parsing compares and corrects with the same values."""
    values = {name: normalised.get(name, record.get(name)) for name in VERSION_FIELDS}
    values["url"] = url  # the URL the article is archived under, not the one it was read at
    for name, convert in _AS_STORED.items():
        values[name] = convert(values[name])
    # Which parser settings made the record (crawler/parsers/profile.py), when the caller
    # says; not a record field: the same record may come from two settings.
    values["parser_fingerprint"] = _text_or_none(record.get("parser_fingerprint"))
    return values


def current_version(s: Session, article: Article) -> ArticleVersion | None:
    if not article.current_version:
        return None
    return s.scalars(
        select(ArticleVersion).where(
            ArticleVersion.article_id == article.id,
            ArticleVersion.version == article.current_version,
        )
    ).first()


def stored_content(version: ArticleVersion | None) -> dict[str, Any] | None:
    """A stored version's fields as versioning.normalise() gives them (its hash input)."""
    if version is None:
        return None
    return versioning.normalise({name: getattr(version, name)
                                 for name in versioning.REPORTED_FIELDS})


def decide(
    record: dict[str, Any], current: ArticleVersion | None, *, confirmed: bool = False,
    max_body_shrink: float = versioning.DEFAULT_MAX_BODY_SHRINK,
) -> versioning.Decision:
    """What `record` is against the article's `current` version (versioning.classify);
    `confirmed`: someone vouched for the record, so nothing is held back as suspect."""
    return versioning.classify(
        record,
        stored_content(current),
        current_hash=current.content_hash if current else None,
        current_sources=current.sources if current else None,
        max_body_shrink=max_body_shrink,
        confirmed=confirmed,
    )


def create_version(
    s: Session,
    article: Article,
    current: ArticleVersion | None,
    decision: versioning.Decision,
    record: dict[str, Any],
    *,
    url: str,
    raw_sha: str | None,
    fetched_at: datetime,
    number: int | None = None,
) -> int:
    """Store `decision` (a new_article or new_version made from `record` against `current`,
    the article's current version) as the article's next version; returns its number.
    `number`: given for an article whose row was inserted pointing at its first version."""
    values = stored_values(decision.normalised, record, url)
    if number is None:
        number = article.current_version + 1
    previous = stored_content(current)
    summary = change_summary(previous, decision.normalised)
    # A Core insert: nothing reads the new row back as an object in this transaction, and the
    # ORM's unit of work cost more CPU than the insert (a crawl makes one per article).
    core_execute(s, _INSERT_VERSION, {
        "article_id": article.id,
        "version": number,
        "content_hash": decision.content_hash,
        "changed_fields": list(decision.changed_fields),
        "fetched_at": fetched_at,
        "raw_page_sha": raw_sha,
        "change_summary": summary,
        **values,
    })
    # The version's events, in its transaction (so one exists iff the other does).
    record_version_events(s, article, number, previous, decision.normalised, summary,
                          fetched_at)
    article.current_version = number
    article.last_changed = fetched_at
    return number
