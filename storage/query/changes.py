"""The changes listing: one row per new version across the archive, newest first, by keyset.

Rows carry what a change page or feed shows without re-diffing bodies: the fields that
changed, the version's own short fields (the new values), and the stored per-version change
summary (`change_summary`: words added/removed, body share, the previous values of the short
fields that changed). Archives written before that column existed get the previous short
values from the previous version instead (no word counts then).

Order: the version's archive id, descending. Versions are inserted as they are fetched, so
this is "newest recorded first", and the id is the keyset cursor (`before`): a page costs
the same however deep it is, unlike OFFSET.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, text
from sqlalchemy.orm import aliased

from storage.changes import SUMMARY_FIELDS
from storage.models import Article, ArticleVersion, Site
from storage.query.connection import id_in, is_sqlite, reading
from storage.query.errors import QueryError
from storage.query.filters import ArticleFilter, _instant, apply_filters
from storage.query.records import current_join

# Field kinds a change can be filtered by (web filters and feeds): name -> stored fields.
FIELD_KINDS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "lead": ("lead",),
    "body": ("body", "body_complete"),
    "authors": ("authors",),
    "dates": ("published_at", "updated_at"),
    "paywall": ("paywalled", "paywall_percent"),
    "section": ("section",),
    "tags": ("tags",),
    "image": ("image",),
    "related": ("related",),
}

MAX_LIMIT = 200

_current = aliased(ArticleVersion, name="current_version")


def list_changes(
    archive, *, kinds: list[str] | tuple[str, ...] = (), article: int | None = None,
    flt: ArticleFilter | None = None, since: datetime | date | None = None,
    until: datetime | date | None = None, before: int | None = None, limit: int = 50,
    new_articles: bool = False,
) -> dict[str, Any]:
    """Changes (versions 2 and later, parser artefacts left out; with `new_articles`, first
    versions only), newest first. `kinds`: only changes touching one of these FIELD_KINDS;
    `article`: one article (archive id); `flt`: articles by their current version
    (section, author, ...); `since` and `until`: when the version was fetched (a date is the
    whole day, UTC); `before`: the keyset cursor (a `version_id` from a previous page).

    Returns {"changes": [...], "next": cursor or None}. Each change: version_id, id, site,
    article_id, version, versions, fetched_at, changed_fields, summary (the change summary:
    words_added, words_removed, body_share, old), current_title, url, and the version's short
    fields (title, lead, authors, published_at, updated_at, section, tags, paywalled,
    paywall_percent, image)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    unknown = [k for k in kinds if k not in FIELD_KINDS]
    if unknown:
        raise QueryError(f"unknown field {unknown[0]!r}; expected one of "
                         f"{', '.join(FIELD_KINDS)}")
    with reading(archive) as conn:
        query = select(ArticleVersion.id).where(ArticleVersion.artefact.is_(False))
        query = query.where(ArticleVersion.version == 1 if new_articles
                            else ArticleVersion.version > 1)
        if before is not None:
            query = query.where(ArticleVersion.id < int(before))
        if article is not None:
            query = query.where(ArticleVersion.article_id == int(article))
        if since is not None:
            query = query.where(ArticleVersion.fetched_at >= _instant(since))
        if until is not None:
            query = query.where(ArticleVersion.fetched_at < _instant(until, end_of_day=True)
                                if not isinstance(until, datetime)
                                else ArticleVersion.fetched_at <= _instant(until))
        if kinds:
            fields = sorted({f for k in kinds for f in FIELD_KINDS[k]})
            query = query.where(_changed_any(is_sqlite(conn), fields))
        if flt is not None and not flt.is_empty():
            chosen = apply_filters(conn, select(Article.id).select_from(current_join()), flt)
            query = query.where(ArticleVersion.article_id.in_(chosen))
        ids = list(conn.scalars(query.order_by(ArticleVersion.id.desc()).limit(limit + 1)))
        more = len(ids) > limit
        ids = ids[:limit]
        rows = _change_rows(conn, ids)
    return {"changes": rows, "next": ids[-1] if more and ids else None}


def _changed_any(sqlite: bool, fields: list[str]):
    """changed_fields (a JSON array) contains one of `fields`."""
    if sqlite:
        return text("EXISTS (SELECT 1 FROM json_each(article_versions.changed_fields) AS cf "
                    "WHERE cf.value IN :fields)").bindparams(
            bindparam("fields", fields, expanding=True))
    return text("article_versions.changed_fields ?| CAST(:fields AS text[])").bindparams(
        bindparam("fields", fields))


# The columns of a change row, built once (see lookup.py: building a SELECT with its joins
# costs more Python than running it); each call adds its version ids.
_CHANGE_ROWS = (
    select(
        ArticleVersion.id.label("version_id"), Article.id.label("id"),
        Site.name.label("site"), Article.article_id, ArticleVersion.version,
        Article.current_version.label("versions"), ArticleVersion.fetched_at,
        ArticleVersion.changed_fields, ArticleVersion.change_summary,
        _current.title.label("current_title"), Article.url,
        *(getattr(ArticleVersion, name) for name in SUMMARY_FIELDS),
    )
    .select_from(ArticleVersion)
    .join(Article, Article.id == ArticleVersion.article_id)
    .join(Site, Site.id == Article.site_id)
    .outerjoin(_current, and_(_current.article_id == Article.id,
                              _current.version == Article.current_version))
)


def _change_rows(conn, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    # One array parameter on PostgreSQL: the same SQL text for any number of ids.
    query = _CHANGE_ROWS.where(id_in(conn, ArticleVersion.id, ids))
    by_id = {row.version_id: dict(row._mapping) for row in conn.execute(query)}
    rows = []
    for version_id in ids:
        row = by_id[version_id]
        row["summary"] = row.pop("change_summary")
        rows.append(row)
    return rows


def version_fetch_times(archive, version_ids: list[int]) -> dict[int, datetime]:
    """When each version (by its `version_id`) was fetched."""
    if not version_ids:
        return {}
    with reading(archive) as conn:
        return dict(conn.execute(select(ArticleVersion.id, ArticleVersion.fetched_at)
                                 .where(ArticleVersion.id.in_(version_ids))).all())
