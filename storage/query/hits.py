"""Search results as both back ends return them: the columns of a hit, fetched for the
ranked version ids, and the highlighted title and snippet added to the final few."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Connection

from storage.models import Article, ArticleVersion, Site
from storage.query.highlight import highlight, snippet
from storage.query.records import version_join

HIT_COLUMNS = (
    ArticleVersion.id.label("version_id"), Article.id.label("id"), Site.name.label("site"),
    Article.article_id, ArticleVersion.version, Article.current_version.label("versions"),
    Article.published_at, ArticleVersion.title, ArticleVersion.url,
)


# Keys under which a back end may add each hit's lead and body for decorate() (removed there).
TEXT_KEYS = ("_lead", "_body")


class _Texts(NamedTuple):
    lead: str | None
    body: str | None


def hit_select(*extra, all_versions: bool):
    """The HIT_COLUMNS (and `extra` columns) of versions, only current ones unless
    `all_versions`; the caller says which versions."""
    query = select(*HIT_COLUMNS, *extra).select_from(version_join())
    if not all_versions:
        query = query.where(ArticleVersion.version == Article.current_version)
    return query


def decorate(conn: Connection, hits: list[dict[str, Any]], tree, marks) -> list[dict[str, Any]]:
    """Add title_highlighted and snippet (body passage, else lead) to each hit."""
    if not hits:
        return hits
    # A back end may hand the texts over with the hits (TEXT_KEYS), saving a query.
    texts = {h["version_id"]: _Texts(h.pop(TEXT_KEYS[0]), h.pop(TEXT_KEYS[1]))
             for h in hits if TEXT_KEYS[1] in h}
    missing = [h["version_id"] for h in hits if h["version_id"] not in texts]
    if missing:
        texts.update((row.id, row) for row in conn.execute(
            select(ArticleVersion.id, ArticleVersion.lead, ArticleVersion.body)
            .where(ArticleVersion.id.in_(missing))))
    for hit in hits:
        row = texts.get(hit["version_id"])
        hit["title_highlighted"], _ = highlight(hit["title"], tree, marks)
        passage, found = snippet(row.body if row else None, tree, marks)
        if not found and row is not None and row.lead:
            lead_passage, lead_found = snippet(row.lead, tree, marks)
            if lead_found:
                passage = lead_passage
        hit["snippet"] = passage
    return hits
