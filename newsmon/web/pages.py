"""The HTML pages: changes (home), article, diff, raw download, search, runs and health."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from newsmon.web.context import MARKS, Context, bad_request, not_found, parse_day
from storage.query import (
    RANK_WINDOW,
    ArticleFilter,
    QueryError,
    list_fetch_events,
    list_runs,
    list_versions,
    search,
)
from storage.query.changes import FIELD_KINDS, list_changes

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
SEARCH_LIMIT = 50


def _ctx(request: Request) -> Context:
    return request.app.state.ctx


def _site(value: str | None) -> str | None:
    return (value or "").strip() or None


def _query(values: dict) -> str:
    """`?a=1&b=2` of the values that are set, else nothing."""
    active = {k: v for k, v in values.items() if v}
    return "?" + urlencode(active) if active else ""


def _page(request: Request, template: str, **values) -> HTMLResponse:
    return HTMLResponse(_ctx(request).render(template, request_path=request.url.path,
                                             **values))


@router.get("/", response_class=HTMLResponse)
def changes_page(request: Request, field: str | None = None, section: str | None = None,
                 author: str | None = None, since: str | None = None,
                 until: str | None = None, before: int | None = Query(None, ge=1),
                 site: str | None = None):
    ctx = _ctx(request)
    field = field or None
    if field is not None and field not in FIELD_KINDS:
        raise bad_request(f"unknown field {field!r}; expected one of {', '.join(FIELD_KINDS)}")
    flt = ArticleFilter(section=(section or "").strip() or None,
                        author=(author or "").strip() or None, site=_site(site))
    filters = {"field": field, "section": flt.section, "author": flt.author,
               "since": since or None, "until": until or None, "site": flt.site}
    since_day, until_day = parse_day(since, "since"), parse_day(until, "until")

    def render() -> str:
        try:
            page = list_changes(ctx.archive, kinds=[field] if field else [], flt=flt,
                                since=since_day, until=until_day, before=before,
                                limit=PAGE_SIZE)
        except QueryError as exc:
            raise bad_request(str(exc)) from None
        active = {k: v for k, v in filters.items() if v}
        next_url = "/?" + urlencode({**active, "before": page["next"]}) if page["next"] else None
        feed_query = {"field": field if field in (
            "title", "lead", "body", "authors", "dates", "paywall") else None, "site": flt.site}
        feed = "/feeds/changes.atom" + _query(feed_query)
        return ctx.render("changes.html", request_path=request.url.path,
                          changes=page["changes"], filters=filters, kinds=list(FIELD_KINDS),
                          next_url=next_url, sites=ctx.sites(),
                          new_feed_url="/feeds/new.atom" + _query({"site": flt.site}),
                          first_url="/?" + urlencode(active) if before else None,
                          feed_url=feed if not (section or author) else None)

    # The same list until the archive changes (newsmon/web/cache.py).
    return HTMLResponse(ctx.responses.get(("page", request.url.path, request.url.query),
                                          render))


@router.get("/articles/{ref}", response_class=HTMLResponse)
def article_page(request: Request, ref: str, version: int | None = Query(None, ge=1)):
    ctx = _ctx(request)
    with ctx.reading() as db:
        article = ctx.article_id(ref, db)
        record = ctx.version(article, version, db)
        versions = list_versions(db, article)
    return _page(request, "article.html", record=record, versions=versions)


@router.get("/articles/{ref}/diff", response_class=HTMLResponse)
def diff_page(request: Request, ref: str, from_: int | None = Query(None, alias="from", ge=1),
              to: int | None = Query(None, ge=1), view: str = "side"):
    ctx = _ctx(request)
    if view not in ("side", "inline"):
        raise bad_request(f"unknown view {view!r}; expected side or inline")
    diff = diff_for(ctx, ref, from_, to)
    return _page(request, "diff.html", diff=diff, view=view,
                 versions=list(range(1, diff["versions"] + 1)))


def diff_for(ctx: Context, ref: str, old: int | None, new: int | None) -> dict:
    """The cached diff of ARTICLE between two versions (default: the last two), with 400 for
    half a pair and 404 for a version that does not exist."""
    if (old is None) != (new is None):
        raise bad_request("give both versions to compare (from and to), or neither")
    ctx.current_state()  # (cached diffs are dropped when a re-parse rewrote versions)
    with ctx.reading() as db:
        article = ctx.article_id(ref, db)
        current = ctx.version(article, db=db)
        if old is None:
            if current["versions"] < 2:
                raise not_found(f"article {ref} has a single version: nothing to compare")
            old, new = current["versions"] - 1, current["versions"]
        for number in (old, new):
            if number > current["versions"]:
                raise not_found(f"article {ref} has no version {number} "
                                f"(versions: 1..{current['versions']})")
        diff = dict(ctx.diffs.get(article, old, new, db))
    diff["versions"] = current["versions"]
    diff["current_title"] = current["title"]
    return diff


@router.get("/articles/{ref}/versions/{number}/raw")
def raw_page(request: Request, ref: str, number: int):
    """The stored page exactly as fetched, as a download: never rendered from our origin."""
    ctx = _ctx(request)
    with ctx.reading() as db:
        record = ctx.version(ctx.article_id(ref, db), number, db)
    data = ctx.archive.get_raw(record["raw_page_sha"]) if record.get("raw_page_sha") else None
    if data is None:
        raise not_found(f"no raw page stored for version {number} of article {ref}")
    name = f"{record['site']}-{record['article_id']}-v{number}.html"
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Security-Policy": "sandbox; default-src 'none'"})


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str | None = None, all: bool = False,  # noqa: A002
                site: str | None = None):
    ctx = _ctx(request)
    hits, error, site = [], None, _site(site)
    # One connection for the search and the site list (a second one cost its own checkout,
    # transaction and settings: several round trips).
    with ctx.reading() as db:
        sites = ctx.sites(db)
        if q and q.strip():
            try:
                hits = site_search(db, q, site, all_versions=all, limit=SEARCH_LIMIT,
                                   marks=MARKS)
            except QueryError as exc:
                # The page shows the reason beside the form, with the status it deserves.
                error = str(exc)
    response = _page(request, "search.html", q=q or "", hits=hits, error=error,
                     all_versions=all, site=site, sites=sites,
                     feed_url="/feeds/search.atom" + _query({"q": q, "site": site})
                     if q and not error else None)
    if error:
        response.status_code = 400
    return response


def site_search(archive, q: str, site: str | None, *, limit: int, **options) -> list[dict]:
    """search() of one site's articles when `site` is given. The search query has no site
    filter of its own: the site's hits are taken from the whole ranking window (the hits
    search() ranks anyway), so a site with few matches among many still shows them."""
    if site is None:
        return search(archive, q, limit=limit, **options)
    hits = search(archive, q, limit=RANK_WINDOW, **options)
    return [h for h in hits if h["site"] == site][:limit]


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, site: str | None = None):
    ctx = _ctx(request)
    site = _site(site)
    runs = list_runs(ctx.archive, limit=30, site=site)
    suspects = list_fetch_events(ctx.archive, limit=50, outcomes=("suspect", "parse_failure"),
                                 site=site)
    latest = next((r for r in runs if r["status"] not in ("skipped", "running")), None)
    # The fields each run measured, as recorded (first seen first).
    fields = list(dict.fromkeys(f for r in runs for f in (r.get("coverage") or {})))
    return _page(request, "runs.html", runs=runs, suspects=suspects, coverage_fields=fields,
                 latest=latest, site=site, sites=ctx.sites())
