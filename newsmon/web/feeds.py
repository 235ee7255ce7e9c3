"""Atom 1.0 feeds: all changes, per field kind, per article, per search query, new articles.

Each entry carries the change itself, as HTML with inline styles (feed readers drop
stylesheets): old -> new for short fields, a word diff for title, lead and body. Entry ids
are URNs built from the site and version (`urn:newsmon:rp:40671561:v2`), so they survive a
change of --public-url. Responses carry an ETag (the entries' version ids) and Last-Modified
(the newest entry); a matching If-None-Match or If-Modified-Since gets 304 before any entry
is rendered. A feed's rows, validators and document are kept while the archive stays the same
(newsmon/web/cache.py), and rendered entries per version.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Query, Request, Response

from newsmon.web import present
from newsmon.web.context import MARKS, Context, bad_request
from newsmon.web.pages import site_search
from storage.query import ArticleFilter, QueryError, condense, word_diff
from storage.query.changes import list_changes, version_fetch_times

ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 30
FEED_KINDS = ("title", "lead", "body", "authors", "dates", "paywall")
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ET.register_namespace("", ATOM)
router = APIRouter()


def _ctx(request: Request) -> Context:
    return request.app.state.ctx


def entry_id(site: str, article_id: str, version: int) -> str:
    return f"urn:newsmon:{site}:{article_id}:v{version}"


def _rfc3339(value: Any) -> str:
    moment = present.as_datetime(value) or _EPOCH
    return moment.astimezone(present.WARSAW).isoformat(timespec="seconds")


def change_html(ctx: Context, change: dict[str, Any], base: str) -> str:
    """The entry content of one change: every changed field, old -> new, inline styles."""
    key = (change["version_id"], base)
    cached = ctx.entries.get(key)
    if cached is not None:
        return cached
    fields = change["changed_fields"] or []
    old = (change.get("summary") or {}).get("old") or {}
    rows = []
    if "*" not in fields:
        body_diff = None
        if "body" in fields:
            diff = ctx.diffs.get(change["id"], change["version"] - 1, change["version"])
            body_diff = next((f for f in diff["fields"] if f["field"] == "body"), None)
            # The full diff has every old value too: short ones missing from a summary.
            old = {**{f["field"]: f["old"] for f in diff["fields"]}, **old}
        for name in fields:
            if name in ("title", "lead") and name in old:
                rows.append({"field": name, "ops": word_diff(old[name], change.get(name))})
            elif name == "body" and body_diff is not None:
                rows.append({"field": name, "ops": condense(body_diff["ops"])})
            elif name in old:
                rows.append({"field": name, "old": old[name], "new": change.get(name)})
            else:
                rows.append({"field": name})
    url = f"{base}/articles/{change['id']}"
    html = ctx.render("feed_entry.html", change=change, rows=rows, article_url=url,
                      diff_url=f"{url}/diff?from={change['version'] - 1}&to={change['version']}")
    ctx.entries.put(key, html)
    return html


def _feed_xml(*, title: str, feed_id: str, self_url: str, page_url: str, updated: Any,
              entries: list[dict[str, Any]]) -> bytes:
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_id
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _rfc3339(updated)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url,
                  type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=page_url, type="text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "newsmon"
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "newsmon"
    for item in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = item["title"]
        ET.SubElement(entry, f"{{{ATOM}}}id").text = item["id"]
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _rfc3339(item["updated"])
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=item["link"],
                      type="text/html")
        if item.get("categories"):
            for term in item["categories"]:
                ET.SubElement(entry, f"{{{ATOM}}}category", term=term)
        summary = item.get("summary")
        if summary:
            ET.SubElement(entry, f"{{{ATOM}}}summary").text = summary
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="html")
        content.text = item["html"]  # escaped by the serialiser: type="html" means that
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8",
                                                                     xml_declaration=False)


def _conditional(request: Request, tag: str, last: datetime | None) -> dict[str, str] | None:
    """Validators for the response; None when the client's copy is current (answer 304)."""
    headers = {"ETag": f'"{tag}"', "Cache-Control": "no-cache"}
    if last is not None:
        headers["Last-Modified"] = format_datetime(last.astimezone(UTC), usegmt=True)
    match = request.headers.get("if-none-match")
    if match is not None:
        if f'"{tag}"' in [m.strip() for m in match.split(",")] or match.strip() == "*":
            return None
        return headers
    since = request.headers.get("if-modified-since")
    if since and last is not None:
        try:
            if last.replace(microsecond=0) <= parsedate_to_datetime(since):
                return None
        except (TypeError, ValueError):
            pass
    return headers


class _Feed:
    """One feed in one archive state: its validators, and its document once a client needed
    it (a conditional request that matches never renders the entries)."""

    def __init__(self, key: str, ids: list, last: datetime | None, build):
        self.tag = hashlib.sha256(f"{key}|{ids}".encode()).hexdigest()[:32]
        self.last = last
        self._build = build
        self._body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            self._body = self._build()
        return self._body


def _respond(request: Request, compute) -> Response:
    """The feed `compute()` makes (a _Feed), from the cache while the archive is unchanged,
    as 304 or the document."""
    ctx = _ctx(request)
    feed = ctx.responses.get(("feed", request.url.path, request.url.query,
                              ctx.base_url(request)), compute)
    headers = _conditional(request, feed.tag, feed.last)
    if headers is None:
        return Response(status_code=304, headers={"ETag": f'"{feed.tag}"'})
    return Response(feed.body(), media_type=MEDIA_TYPE, headers=headers)


def _self_url(request: Request, base: str) -> str:
    return base + request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _changes_feed(request: Request, *, title: str, key: str, page_url: str,
                  **query: Any) -> Response:
    ctx = _ctx(request)
    base = ctx.base_url(request)
    self_url = _self_url(request, base)

    def compute() -> _Feed:
        try:
            changes = list_changes(ctx.archive, limit=FEED_ENTRIES, **query)["changes"]
        except QueryError as exc:
            raise bad_request(str(exc)) from None
        last = present.as_datetime(changes[0]["fetched_at"]) if changes else None

        def build() -> bytes:
            entries = []
            for change in changes:
                labels = [present.KIND_LABELS.get(k, k) for k in present.kinds(
                    change["changed_fields"])]
                headline = change["title"] or change["current_title"] or change["article_id"]
                what = "new article" if change["version"] == 1 else ", ".join(labels)
                entries.append({
                    "title": f"{headline} — {what}",
                    "id": entry_id(change["site"], change["article_id"], change["version"]),
                    "updated": change["fetched_at"],
                    "link": (f"{base}/articles/{change['id']}" if change["version"] == 1 else
                             f"{base}/articles/{change['id']}/diff?from="
                             f"{change['version'] - 1}&to={change['version']}"),
                    "categories": labels if change["version"] > 1 else ["new"],
                    "summary": "; ".join(present.summary_parts(change)),
                    "html": change_html(ctx, change, base),
                })
            return _feed_xml(title=title, feed_id=f"urn:newsmon:feed:{key}",
                             self_url=self_url, page_url=base + page_url, updated=last,
                             entries=entries)

        return _Feed(key, [c["version_id"] for c in changes], last, build)

    return _respond(request, compute)


@router.get("/feeds/changes.atom", tags=["feeds"], summary="Atom: the newest changes")
def changes_feed(request: Request, field: str | None = Query(
        None, description="only changes of this kind: " + "|".join(FEED_KINDS)),
        site: str | None = Query(None, description="only this site's articles")):
    if field is not None and field not in FEED_KINDS:
        raise bad_request(f"unknown field {field!r}; expected one of {', '.join(FEED_KINDS)}")
    site = (site or "").strip() or None
    label = f" ({present.KIND_LABELS[field]})" if field else ""
    page_query = {k: v for k, v in (("field", field), ("site", site)) if v}
    return _changes_feed(request, title=f"newsmon: changes{label}" + (f" on {site}" if site
                                                                        else ""),
                         key=f"changes:{field or 'all'}" + (f":{site}" if site else ""),
                         page_url="/" + (f"?{urlencode(page_query)}" if page_query else ""),
                         kinds=[field] if field else [], flt=ArticleFilter(site=site))


@router.get("/feeds/new.atom", tags=["feeds"], summary="Atom: newly archived articles")
def new_feed(request: Request, site: str | None = Query(None,
                                                        description="only this site's articles")):
    site = (site or "").strip() or None
    return _changes_feed(request, title="newsmon: new articles" + (f" on {site}" if site
                                                                    else ""),
                         key="new" + (f":{site}" if site else ""),
                         page_url="/" + (f"?{urlencode({'site': site})}" if site else ""),
                         new_articles=True, flt=ArticleFilter(site=site))


@router.get("/feeds/articles/{ref}.atom", tags=["feeds"],
            summary="Atom: every version of one article")
def article_feed(request: Request, ref: str):
    ctx = _ctx(request)
    base = ctx.base_url(request)

    def compute() -> _Feed:
        with ctx.reading() as db:
            article = ctx.article_id(ref, db)
            current = ctx.version(article, db=db)
            # Changes and the first version together: one article's whole history.
            changes = list_changes(db, article=article, limit=FEED_ENTRIES)["changes"]
            first = [] if len(changes) >= FEED_ENTRIES else list_changes(
                db, article=article, new_articles=True, limit=1)["changes"]
        rows = changes + first
        last = present.as_datetime(rows[0]["fetched_at"]) if rows else None

        def build() -> bytes:
            entries = [{
                "title": (f"{c['title']} — " + ("first version" if c["version"] == 1 else
                                                ", ".join(present.KIND_LABELS.get(k, k) for k in
                                                          present.kinds(c["changed_fields"])))),
                "id": entry_id(c["site"], c["article_id"], c["version"]),
                "updated": c["fetched_at"],
                "link": (f"{base}/articles/{article}" if c["version"] == 1 else
                         f"{base}/articles/{article}/diff?from={c['version'] - 1}"
                         f"&to={c['version']}"),
                "summary": "; ".join(present.summary_parts(c)),
                "html": change_html(ctx, c, base),
            } for c in rows]
            return _feed_xml(title=f"newsmon: {current['title']}",
                             feed_id=f"urn:newsmon:feed:article:{current['site']}:"
                                     f"{current['article_id']}",
                             self_url=f"{base}/feeds/articles/{ref}.atom",
                             page_url=f"{base}/articles/{article}", updated=last,
                             entries=entries)

        return _Feed(f"article:{article}", [c["version_id"] for c in rows], last, build)

    return _respond(request, compute)


@router.get("/feeds/search.atom", tags=["feeds"], summary="Atom: articles matching a search")
def search_feed(request: Request, q: str = Query(..., description="search query (CLI syntax)"),
                site: str | None = Query(None, description="only this site's articles")):
    ctx = _ctx(request)
    base = ctx.base_url(request)
    site = (site or "").strip() or None
    query = urlencode({"q": q, **({"site": site} if site else {})})

    def compute() -> _Feed:
        with ctx.reading() as db:
            try:
                hits = site_search(db, q, site, limit=FEED_ENTRIES, marks=MARKS)
            except QueryError as exc:
                raise bad_request(str(exc)) from None
            times = version_fetch_times(db, [h["version_id"] for h in hits])
        for hit in hits:
            hit["fetched_at"] = times.get(hit["version_id"])
        last = max((present.as_datetime(t) for t in times.values()), default=None)

        def build() -> bytes:
            entries = []
            for hit in hits:
                link = f"{base}/articles/{hit['id']}"
                html = ctx.render("feed_hit.html", hit=hit, link=link)
                entries.append({"title": hit["title"] or hit["article_id"],
                                "id": entry_id(hit["site"], hit["article_id"], hit["version"]),
                                "updated": hit["fetched_at"], "link": link, "html": html})
            return _feed_xml(title=f"newsmon: search {q}", feed_id="urn:newsmon:feed:search:"
                             # (a search of every site keeps the id it always had)
                             + hashlib.sha256((query if site else q).encode()).hexdigest()[:16],
                             self_url=f"{base}/feeds/search.atom?{query}",
                             page_url=f"{base}/search?{query}", updated=last,
                             entries=entries)

        return _Feed(f"search:{query}", [h["version_id"] for h in hits], last, build)

    return _respond(request, compute)
