"""newsmon's archive: articles, every version of them, raw pages, crawl runs.

Knows nothing of Scrapy. Entry point: `Archive.open(db_url)`; see archive.py for the API and
the modules behind it, versioning.py for when a fetch becomes a new version, migrate.py for
schema upgrades, query/ for reading.
"""

from storage.archive import Archive
from storage.articles import ArticleState
from storage.errors import ArchiveError
from storage.fetches import FetchOutcome
from storage.migrate import MigrationError, current_revision, head_revision, upgrade
from storage.versioning import changed_fields, classify, content_hash, normalise

__all__ = [
    "Archive",
    "ArchiveError",
    "ArticleState",
    "FetchOutcome",
    "MigrationError",
    "changed_fields",
    "classify",
    "content_hash",
    "current_revision",
    "head_revision",
    "normalise",
    "upgrade",
]
