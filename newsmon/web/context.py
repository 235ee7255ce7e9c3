"""What every request handler shares: the read-only archive, the templates, the caches (diffs
by version pair, rendered responses by archive state), and the helpers that turn bad input
into a clean 400 or 404."""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape
from sqlalchemy import select

from crawler.sites import id_pattern
from crawler.urls import article_ref
from newsmon.web import present
from newsmon.web.cache import LRU, ArchiveState, ResponseCache
from storage import Archive
from storage.models import Site
from storage.query import (
    QueryError,
    diff_versions,
    get_version,
    last_rewrite,
    reading,
    resolve_article,
)
from storage.query.paragraphs import collapse, paragraph_diff

# Highlight marks handed to the search functions: control characters that normalised
# archive text cannot contain, replaced by <mark> only after the text has been escaped.
MARKS = ("\x02", "\x03")
DIFF_CACHE_SIZE = 512
ENTRY_CACHE_SIZE = 2048


class WebError(Exception):
    """Bad input or a missing thing: answered with `status` and the reason, never a trace."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(message: str) -> WebError:
    return WebError(404, message)


def bad_request(message: str) -> WebError:
    return WebError(400, message)


def marked(text: str | None) -> Markup:
    """Highlighted text (MARKS) as HTML: escaped first, then the marks become <mark>."""
    return Markup(str(escape(text or "")).replace(MARKS[0], "<mark>").replace(MARKS[1],
                                                                                "</mark>"))


def parse_day(value: str | None, name: str) -> date | datetime | None:
    """A date filter: YYYY-MM-DD (the whole day) or an ISO 8601 date-time; else 400."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name}: not a date: {value!r} (expected YYYY-MM-DD or an ISO 8601 "
                          "date-time)") from None


class DiffCache:
    """Full diffs by (article, from, to), computed on demand; an in-process LRU. A stored
    version changes only when a re-parse rewrites it, and then Context drops them all."""

    def __init__(self, archive: Archive, size: int = DIFF_CACHE_SIZE):
        self.archive = archive
        self._entries = LRU(size)

    def get(self, article: int, old: int, new: int, db=None) -> dict[str, Any]:
        """The diff (computed on `db`, a connection from reading(), when given)."""
        key = (article, old, new)
        diff = self._entries.get(key)
        if diff is not None:
            return diff
        diff = diff_versions(db if db is not None else self.archive, article, old, new)
        for entry in diff["fields"]:
            if entry["field"] == "body":
                entry["paragraphs"] = collapse(paragraph_diff(entry["old"], entry["new"]))
        self._entries.put(key, diff)
        return diff

    def clear(self) -> None:
        self._entries.clear()


class Context:
    def __init__(self, archive: Archive, public_url: str | None):
        self.archive = archive
        self.public_url = public_url.rstrip("/") if public_url else None
        self.diffs = DiffCache(archive)
        # Rendered feed entries by (version id, base URL): feeds.change_html.
        self.entries = LRU(ENTRY_CACHE_SIZE)
        # How the configured site writes its article ids (its profile's [site].id_pattern).
        self.id_pattern = id_pattern()
        self.state = ArchiveState(archive.engine)
        self.responses = ResponseCache(self.current_state)
        self._seen_state: Any = None
        self._rewrite_mark: int | None = None
        self._state_lock = threading.Lock()
        self.templates = Environment(loader=PackageLoader("newsmon.web", "templates"),
                                     autoescape=True, trim_blocks=True, lstrip_blocks=True)
        self.templates.filters.update(
            warsaw=present.warsaw, kinds=present.kinds, safe_url=present.safe_url,
            show=present.show_value, marked=marked, summary=present.summary_parts,
            paywall=present.paywall_text)
        self.templates.globals.update(kind_labels=present.KIND_LABELS)

    def base_url(self, request) -> str:
        """The absolute base for links that leave the page (feeds): --public-url, else the
        address the request came to."""
        return self.public_url or str(request.base_url).rstrip("/")

    def current_state(self) -> Any:
        """The archive's state token (newsmon/web/cache.py). When it has changed since the
        last request, and a re-parse has rewritten versions in place meanwhile (each rewrite
        leaves a superseded record), the diffs and rendered entries derived from them are
        dropped first."""
        token = self.state.token()
        if token is None or token == self._seen_state:
            return token
        mark = last_rewrite(self.archive)
        with self._state_lock:
            if mark != self._rewrite_mark:
                self.diffs.clear()
                self.entries.clear()
                self._rewrite_mark = mark
            self._seen_state = token
        return token

    def reading(self):
        """One read-only connection (and transaction) for the several queries of a request:
        pass it to the lookups below and to storage.query functions instead of the archive."""
        return reading(self.archive)

    def sites(self, db=None) -> list[str]:
        """The names of the sites the archive holds: the pages offer a site filter, and name
        each item's site, only when there are several."""
        with reading(db if db is not None else self.archive) as conn:
            return list(conn.execute(select(Site.name).order_by(Site.name)).scalars())

    def render(self, name: str, **values: Any) -> str:
        return self.templates.get_template(name).render(**values)

    # -- looking things up, with bad input as 400/404 ------------------------------------

    def article_id(self, ref: str, db=None) -> int:
        """The archive id of ARTICLE (the site's article id, bare or written as the site writes
        it, e.g. 40671561 or art40671561; or the archive id); 404 otherwise. Handed back to
        storage.query (an ArchiveId), it is not looked up again."""
        bare = article_ref(ref or "", self.id_pattern)
        if not bare.isdigit():
            raise not_found(f"not an article reference: {ref!r} (expected an article id as the "
                            "site writes it, or an archive id)")
        try:
            return resolve_article(db if db is not None else self.archive, bare)
        except QueryError as exc:
            raise not_found(str(exc)) from None

    def version(self, article: int, number: int | None = None, db=None) -> dict[str, Any]:
        try:
            return get_version(db if db is not None else self.archive, article, number)
        except QueryError as exc:
            raise not_found(str(exc)) from None
