"""Is a fetched page really the article we asked for, whole? Checks that run before the
archive sees a record, so that an error page, a consent or subscription interstitial, a
truncated download or mojibake is kept as *suspect* (raw HTML saved) and never becomes a
version. Pure functions, tested on the replica's fault pages (tests/reliability/)."""

from __future__ import annotations

from typing import Any

from crawler.parsers.document import is_truncated

# Sources that mean "found in the article's own markup or structured data".
ARTICLE_SIGNALS = {"selector", "visible", "jsonld", "meta", "pattern"}


def page_problem(record: dict[str, Any], raw: bytes, requested_id: str,
                 id_from_url) -> str | None:
    """A reason to distrust the page, or None. `id_from_url(url)` maps a URL to an article id
    of the section (the site rules)."""
    if is_truncated(raw):
        return "truncated: the document ends before </body> and </html>"
    canonical = record.get("canonical_url")
    canonical_id = id_from_url(canonical) if canonical else None
    if canonical and canonical_id and canonical_id != requested_id:
        return f"the page is article {canonical_id}, not {requested_id}"
    sources = record.get("sources") or {}
    if not canonical and sources.get("title") not in ARTICLE_SIGNALS:
        # Every real article page carries a canonical link and a headline in markup or
        # JSON-LD; a 200 without them is an interstitial, a soft 404 or an error page.
        return "not an article page (no canonical link, no headline markup or JSON-LD)"
    body = record.get("body") or ""
    if "\ufffd" in body or "\ufffd" in (record.get("title") or ""):
        return "mis-decoded text (replacement characters)"
    return None
