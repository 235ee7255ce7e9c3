"""One article: resolving a reference to it, one of its versions, its version history.

An ARTICLE reference is the site's article id ("40671561", or with a word before it:
"art40671561"), a URL the article was seen under, or the archive id. How a site writes its ids
is its profile's business ([site].id_pattern): a caller holding the profile passes the bare id.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from storage.models import Article, ArticleUrl, ArticleVersion, Site, SupersededRecord
from storage.query.connection import reading
from storage.query.errors import QueryError
from storage.query.records import VERSION_COLUMNS, version_join

# Site-neutral forms of an id: digits, after a word or none ("40671561", "art40671561"), as a
# whole reference or at the start of a URL's last path segment ("art40671561-slug").
_ID = re.compile(r"[^\W\d_]*(\d+)")
_ID_IN_SEGMENT = re.compile(r"[^\W\d_]*(\d+)(?:[-.]|$)")


class ArchiveId(int):
    """An article's archive id as resolve_article found it: given back as a reference, it is
    taken as it is (no lookup again, and never mistaken for a site's article id)."""


def resolve_article(archive, ref: str | int, *, site: str | None = None) -> ArchiveId:
    """The archive id of the article `ref` names: the site's article id ("40671561",
    "art40671561", or a slug where a site's ids are slugs), a URL it was seen under (or any
    URL whose last path segment starts with the id: ".../art40671561-slug", or is it), or
    the archive id. A site article id takes precedence
    over an archive id of the same number. An ArchiveId (what this returns) is returned as it
    is. Raises QueryError when nothing or more than one article matches."""
    if isinstance(ref, ArchiveId):
        return ref
    ref = str(ref).strip()
    if not ref:
        raise QueryError("empty article reference")
    with reading(archive) as conn:
        # Naming the site ids lets the unique (site_id, article_id) index answer the lookup.
        site_ids = list(conn.scalars(_NAMED_SITE, {"site": site}) if site else
                        conn.scalars(_SITES))
        candidates: list[int] = []
        match = _ID.fullmatch(ref)
        if match:
            candidates = _ids(conn, _BY_SITE_ID, site_ids, match.group(1))
            # (An archive id is a 32-bit integer on PostgreSQL: larger numbers cannot be one.)
            if not candidates and ref.isdigit() and int(ref) < 2**31:
                candidates = _ids(conn, _BY_ARCHIVE_ID, site_ids, int(ref))
        elif "://" in ref or ref.startswith("/"):
            url = ref.split("#", 1)[0]
            candidates = _ids(conn, _BY_URL, site_ids, url)
            if not candidates:
                candidates = _ids(conn, _BY_SEEN_URL, site_ids, url)
            segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
            path_id = _ID_IN_SEGMENT.match(segment)
            if not candidates and path_id:
                candidates = _ids(conn, _BY_SITE_ID, site_ids, path_id.group(1))
            if not candidates and segment:
                # A site whose ids are slugs: the last segment is the id.
                candidates = _ids(conn, _BY_SITE_ID, site_ids, segment)
        else:
            # Another site's notation (a slug): the site's article id as written.
            candidates = _ids(conn, _BY_SITE_ID, site_ids, ref)
            if not candidates:
                raise QueryError(f"no article {ref!r} in the archive (an article is named by "
                                 "its site's id, e.g. 40671561 or art40671561, a URL, or the "
                                 "archive id)")
    if not candidates:
        raise QueryError(f"no article {ref!r} in the archive")
    if len(candidates) > 1:
        raise QueryError(f"{ref!r} matches {len(candidates)} articles (several sites?)")
    return ArchiveId(candidates[0])


# The statements of a lookup are built once: building a SELECT costs more Python than a page's
# lookups take to run (SQLAlchemy caches the compiled SQL, not the statement objects).
_SITES = select(Site.id)
_NAMED_SITE = select(Site.id).where(Site.name == bindparam("site"))
_IN_SITES = select(Article.id).where(Article.site_id.in_(bindparam("sites", expanding=True)))
_BY_SITE_ID = _IN_SITES.where(Article.article_id == bindparam("value")).limit(3)
_BY_ARCHIVE_ID = _IN_SITES.where(Article.id == bindparam("value")).limit(3)
_BY_URL = _IN_SITES.where(Article.url == bindparam("value")).limit(3)
_BY_SEEN_URL = (_IN_SITES.join(ArticleUrl, ArticleUrl.article_id == Article.id)
                .where(ArticleUrl.url == bindparam("value")).distinct().limit(3))
_VERSIONS_OF = (select(*VERSION_COLUMNS).select_from(version_join())
                .where(ArticleVersion.article_id == bindparam("article")))
_CURRENT_VERSION = _VERSIONS_OF.where(ArticleVersion.version == Article.current_version)
_NUMBERED_VERSION = _VERSIONS_OF.where(ArticleVersion.version == bindparam("version"))
_ALL_VERSIONS = _VERSIONS_OF.order_by(ArticleVersion.version)
_HISTORY = (
    select(
        ArticleVersion.version,
        ArticleVersion.fetched_at,
        ArticleVersion.content_hash,
        ArticleVersion.changed_fields,
        ArticleVersion.title,
        ArticleVersion.paywall_percent,
        ArticleVersion.word_count,
        ArticleVersion.change_summary,
        ArticleVersion.parser_fingerprint,
        ArticleVersion.artefact,
    )
    .where(ArticleVersion.article_id == bindparam("article"))
    .order_by(ArticleVersion.version)
)
_HISTORY_WITHOUT_ARTEFACTS = _HISTORY.where(ArticleVersion.artefact.is_(False))


def _ids(conn: Connection, query, site_ids: list[int], value) -> list[int]:
    return list(dict.fromkeys(conn.scalars(query, {"sites": site_ids, "value": value}).all()))


def get_version(archive, ref: str | int, version: int | None = None) -> dict[str, Any]:
    """The record of one version of an article (default: its current version): the record's
    fields plus id, version, versions, status, fetched_at, content_hash, changed_fields,
    raw_page_sha, change_summary (storage/changes.py; None for versions stored before
    it was kept). Raises QueryError for an unknown article or version."""
    article = resolve_article(archive, ref)
    with reading(archive) as conn:
        if version is None:
            row = conn.execute(_CURRENT_VERSION, {"article": article}).first()
        else:
            row = conn.execute(_NUMBERED_VERSION, {"article": article,
                                                   "version": int(version)}).first()
        if row is None:
            if version is None:
                raise QueryError(f"article {ref!r} has no stored version yet")
            count = conn.scalar(select(Article.current_version).where(Article.id == article))
            raise QueryError(f"article {ref!r} has no version {version} (versions: 1..{count})")
        return dict(row._mapping)


def get_versions(archive, ref: str | int) -> list[dict[str, Any]]:
    """Every version's record (as get_version gives it), oldest first."""
    article = resolve_article(archive, ref)
    with reading(archive) as conn:
        rows = conn.execute(_ALL_VERSIONS, {"article": article}).all()
    return [dict(r._mapping) for r in rows]


def list_versions(archive, ref: str | int, *, artefacts: bool = False) -> list[dict[str, Any]]:
    """An article's version history, oldest first: version, fetched_at, content_hash,
    changed_fields (["*"] for version 1), title, paywall_percent, word_count,
    change_summary, parser_fingerprint, artefact. Versions a re-parse found equal to the
    one before them (parser artefacts) only with `artefacts`."""
    article = resolve_article(archive, ref)
    query = _HISTORY if artefacts else _HISTORY_WITHOUT_ARTEFACTS
    with reading(archive) as conn:
        rows = conn.execute(query, {"article": article}).all()
    return [dict(r._mapping) for r in rows]


def last_rewrite(archive) -> int:
    """The id of the newest superseded record, 0 when there is none: it moves whenever a
    re-parse rewrites stored versions in place (storage/reparse.py keeps each replaced
    record), so that what was derived from them (diffs, rendered feed entries) can be
    dropped."""
    with reading(archive) as conn:
        return conn.scalar(_LAST_REWRITE) or 0


_LAST_REWRITE = select(func.max(SupersededRecord.id))
