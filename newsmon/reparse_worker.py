"""The parsing half of a re-parse, run in worker processes (newsmon/reparse.py): stored page
bytes in, the current parser's record out, by the same steps as a crawl (the one decoder,
the profile variant in force when the page was fetched, the page read at the host the crawl
read it at, and for held pages the crawl's validation). No database here: pages arrive
with their compressed bytes and the archive's compression dictionaries come once, at start.

Each result says what became of one page: a record (with `parser_fingerprint`; for a
version made ready to compare, storage.reparse.Parsed), a `problem`
(the parser cannot read it, or the page fails validation), or `bad` (the stored page is
missing or corrupt, or its profile unknown: reported, skipped, exit 1), with the CPU time
spent decompressing and parsing it.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from crawler.config import ConfigError, load_site_profile
from crawler.parsers import ParseError, parse_article
from crawler.parsers.decode import decode_html
from crawler.parsers.profile import SiteProfile, profile_variants, select_variant
from crawler.urls import SiteRules
from crawler.validation import page_problem
from storage.reparse import prepare
from storage.reparse_jobs import PageBytes

_state: dict[str, Any] = {}


def init(dicts: dict[str, bytes], variant: str | None) -> None:
    """Process start-up: the archive's dictionaries, and which variant to parse with (None:
    the one in force at each page's fetch time; "latest"; or a variant's name)."""
    _state["pages"] = PageBytes(dicts)
    _state["variant"] = variant


def profile_for(site: str, fetched_at, variant: str | None) -> SiteProfile:
    variants = profile_variants(site)
    if variant is None:
        return select_variant(variants, fetched_at)
    if variant == "latest":
        return variants[-1][1]
    for _, profile in variants:
        if profile.variant == variant:
            return profile
    names = ", ".join(p.variant for _, p in variants)
    raise ConfigError(f"site {site!r} has no parser variant {variant!r} (it has: {names})")


@cache
def _rules(site: str, base_url: str | None) -> SiteRules:
    return SiteRules.from_profile(load_site_profile(site), base_url)


def parse_page(page: dict[str, Any], held: bool = False) -> dict[str, Any]:
    """One stored page (a row of storage.reparse_jobs.version_pages / held_pages) through
    the parser; see the module docstring for the result."""
    out: dict[str, Any] = {"key": page["key"], "record": None, "problem": None, "bad": None,
                           "decompress": 0.0, "parse": 0.0}
    start = time.process_time()
    try:
        raw = _state["pages"](page)
    except ValueError as exc:
        out["bad"] = str(exc)
        return out
    middle = time.process_time()
    out["decompress"] = middle - start
    try:
        out.update(_parse(page, raw, held))
    except ParseError as exc:
        out["problem"] = f"cannot parse: {exc}"
    except ConfigError as exc:
        out["bad"] = f"profile: {exc}"
    except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the other pages
        out["bad"] = f"parser failure (a bug, please report): {exc!r}"
    out["parse"] = time.process_time() - middle
    return out


def _parse(page: dict[str, Any], raw: bytes, held: bool) -> dict[str, Any]:
    site = page["site"]
    profile = profile_for(site, page["fetched_at"], _state.get("variant"))
    rules = _rules(site, page.get("base_url"))
    decoded = decode_html(raw, page.get("content_type"))
    # Where the crawl read the page: its run's fetch base, at the archived URL's path.
    url = rules.fetch_url(page["url"]) if page.get("base_url") else page["url"]
    record = parse_article(decoded.text, url=url, site=profile).to_dict()
    record["parser_fingerprint"] = profile.fingerprint
    record["article_id"] = page["site_article_id"]  # identity is the archive's, as in a crawl
    if held:
        return {"record": record, "problem": page_problem(record, raw, page["site_article_id"],
                                                          rules.site_article_id)}
    # Normalised and hashed here, in parallel, not in the process that writes.
    return {"record": prepare(record, page["url"])}


def parse_pages(pages: list[dict[str, Any]], held: bool = False) -> list[dict[str, Any]]:
    """A chunk of pages (what one task of the process pool carries)."""
    return [parse_page(page, held) for page in pages]
