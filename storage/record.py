"""The archived record's fields: the one list that the archive's writers and readers derive
their columns and keys from.

A record is what the parser hands over (the crawler's `ArticleRecord.to_dict()`; a test checks
that it carries every field here, without storage importing the crawler) and what readers give
back (storage.query: `show`, `export`). What counts as a new version is a policy over a subset
of these fields (storage/versioning.py: HASHED_FIELDS, REPORTED_FIELDS).
"""

from __future__ import annotations

# In record order (the order `show --json` and exports list them).
RECORD_FIELDS = (
    "site", "article_id", "url", "canonical_url", "section", "title", "lead", "body",
    "authors", "published_at", "updated_at", "paywalled", "paywall_percent", "body_complete",
    "tags", "image", "related", "word_count", "sources", "parser_version",
)
# The article's identity: kept on its row (sites, articles), not on each version.
ARTICLE_FIELDS = ("site", "article_id")
# Stored on every version, as article_versions columns of the same names.
VERSION_FIELDS = tuple(name for name in RECORD_FIELDS if name not in ARTICLE_FIELDS)
