"""What a version record is made of when read back: the joins and columns queries start from.

Records are plain dicts whose keys follow the parser's record (`article_id`, `url`, `title`,
`lead`, `authors`, `published_at`, ...) plus `id` (the archive's article id), `version` and
`versions` (how many the article has). Dates are aware datetimes in UTC.
"""

from __future__ import annotations

from sqlalchemy import and_

from storage.models import Article, ArticleVersion, Site

# Columns of a version as the record names them, in record order (export/show).
RECORD_FIELDS = (
    "site", "article_id", "url", "canonical_url", "section", "title", "lead", "body",
    "authors", "published_at", "updated_at", "paywalled", "paywall_percent", "body_complete",
    "tags", "image", "related", "word_count", "sources", "parser_version",
)
VERSION_META = ("id", "version", "versions", "fetched_at", "content_hash", "changed_fields")

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
    ArticleVersion.url,
    ArticleVersion.canonical_url,
    ArticleVersion.section,
    ArticleVersion.title,
    ArticleVersion.lead,
    ArticleVersion.body,
    ArticleVersion.authors,
    ArticleVersion.published_at,
    ArticleVersion.updated_at,
    ArticleVersion.paywalled,
    ArticleVersion.paywall_percent,
    ArticleVersion.body_complete,
    ArticleVersion.tags,
    ArticleVersion.image,
    ArticleVersion.related,
    ArticleVersion.word_count,
    ArticleVersion.sources,
    ArticleVersion.parser_version,
    ArticleVersion.raw_page_sha,
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
