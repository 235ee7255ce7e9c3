"""What a version record is made of when read back: the joins and columns queries start from.

Records are plain dicts whose keys follow the parser's record (`article_id`, `url`, `title`,
`lead`, `authors`, `published_at`, ...) plus `id` (the archive's article id), `version` and
`versions` (how many the article has). Dates are aware datetimes in UTC.
"""

from __future__ import annotations

from sqlalchemy import and_

from storage.models import Article, ArticleVersion, Site
from storage.record import RECORD_FIELDS, VERSION_FIELDS

__all__ = ["RECORD_FIELDS", "VERSION_COLUMNS", "VERSION_META", "current_join", "version_join"]

VERSION_META = ("id", "version", "versions", "fetched_at", "content_hash", "changed_fields")

# A version's record: its article's identity, its own meta columns, the record's fields
# (storage/record.py, in record order), where its raw page is, its change summary, the
# parser settings that made it and whether a re-parse marked it an artefact (migration 0012).
VERSION_COLUMNS = (
    Article.id.label("id"),
    Site.name.label("site"),
    Article.article_id.label("article_id"),
    Article.current_version.label("versions"),
    Article.status.label("status"),
    ArticleVersion.version,
    ArticleVersion.fetched_at,
    ArticleVersion.content_hash,
    ArticleVersion.changed_fields,
    *(getattr(ArticleVersion, name) for name in VERSION_FIELDS),
    ArticleVersion.raw_page_sha,
    ArticleVersion.change_summary,
    ArticleVersion.parser_fingerprint,
    ArticleVersion.artefact,
)


def current_join():
    """articles JOIN their current version JOIN sites."""
    return (
        Article.__table__.join(
            ArticleVersion.__table__,
            and_(
                ArticleVersion.article_id == Article.id,
                ArticleVersion.version == Article.current_version,
            ),
        ).join(Site.__table__, Site.id == Article.site_id)
    )


def version_join():
    """article_versions JOIN their article JOIN sites: every version, not only current ones."""
    return (
        ArticleVersion.__table__.join(Article.__table__, Article.id == ArticleVersion.article_id)
        .join(Site.__table__, Site.id == Article.site_id)
    )
