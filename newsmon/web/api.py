"""The JSON API under /api/: the same records and field names as the CLI's --json."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from newsmon.jsonable import json_default
from newsmon.web.context import Context, bad_request, parse_day
from newsmon.web.pages import diff_for
from storage.query import (
    ORDERS,
    ArticleFilter,
    QueryError,
    archive_stats,
    list_articles,
    list_fetch_events,
    list_runs,
    list_versions,
    search,
)
from storage.query.changes import FIELD_KINDS, list_changes

router = APIRouter(prefix="/api", tags=["api"])


def _ctx(request: Request) -> Context:
    return request.app.state.ctx


def as_json(data: Any, status: int = 200) -> Response:
    """JSON as the CLI writes it (dates ISO 8601, text as is)."""
    return Response(json.dumps(data, ensure_ascii=False, default=json_default),
                    status_code=status, media_type="application/json")


@router.get("/articles", summary="List articles (as `newsmon articles --json`)")
def api_articles(
    request: Request, since: str | None = None, until: str | None = None,
    author: str | None = None, section: str | None = None, tag: str | None = None,
    paywalled: bool | None = Query(None, description="true: paywalled only; false: free only"),
    changed: bool = False, changed_since: str | None = None,
    site: str | None = Query(None, description="a site's profile name"),
    order: str = Query("newest", description="one of " + ", ".join(ORDERS)),
    limit: int = Query(50, ge=1, le=500),
):
    flt = ArticleFilter(since=parse_day(since, "since"), until=parse_day(until, "until"),
                        author=author, section=section, tag=tag, paywalled=paywalled,
                        changed=changed, changed_since=parse_day(changed_since,
                                                                 "changed_since"),
                        site=site)
    try:
        return as_json(list_articles(_ctx(request).archive, flt, limit=limit, order=order))
    except QueryError as exc:
        raise bad_request(str(exc)) from None


@router.get("/articles/{ref}", summary="One article's record (as `newsmon show --json`)")
def api_article(request: Request, ref: str, version: int | None = Query(None, ge=1)):
    ctx = _ctx(request)
    with ctx.reading() as db:
        return as_json(ctx.version(ctx.article_id(ref, db), version, db))


@router.get("/articles/{ref}/versions",
            summary="Version history (as `newsmon versions --json`, plus change_summary)")
def api_versions(request: Request, ref: str):
    ctx = _ctx(request)
    with ctx.reading() as db:
        article = ctx.article_id(ref, db)
        changes = [*list_changes(db, article=article, limit=200)["changes"],
                   *list_changes(db, article=article, new_articles=True, limit=1)["changes"]]
        versions = list_versions(db, article)
    summaries = {c["version"]: c["summary"] for c in changes}
    rows = [{k: r[k] for k in ("version", "fetched_at", "content_hash", "changed_fields",
                               "title")} | {"change_summary": summaries.get(r["version"])}
            for r in versions]
    return as_json(rows)


@router.get("/articles/{ref}/diff", summary="Per-field diff (as `newsmon diff --json`)")
def api_diff(request: Request, ref: str,
             from_: int | None = Query(None, alias="from", ge=1), to: int | None = Query(
                 None, ge=1)):
    diff = diff_for(_ctx(request), ref, from_, to)
    for entry in diff["fields"]:
        entry.pop("paragraphs", None)
    return as_json({k: v for k, v in diff.items() if k not in ("versions", "current_title")})


@router.get("/changes", summary="The newest changes, by keyset (`before`: a version_id)")
def api_changes(
    request: Request, field: str | None = Query(None, description="|".join(FIELD_KINDS)),
    section: str | None = None, author: str | None = None, since: str | None = None,
    until: str | None = None, before: int | None = Query(None, ge=1),
    limit: int = Query(50, ge=1, le=200), new: bool = False,
    site: str | None = Query(None, description="a site's profile name"),
):
    try:
        page = list_changes(_ctx(request).archive, kinds=[field] if field else [],
                            flt=ArticleFilter(section=section, author=author, site=site),
                            since=parse_day(since, "since"), until=parse_day(until, "until"),
                            before=before, limit=limit, new_articles=new)
    except QueryError as exc:
        raise bad_request(str(exc)) from None
    return as_json(page)


@router.get("/search", summary="Full-text search (as `newsmon search --json`)")
def api_search(request: Request, q: str = Query(..., description="query, CLI syntax"),
               all_versions: bool = False, limit: int = Query(20, ge=1, le=200)):
    try:
        hits = search(_ctx(request).archive, q, all_versions=all_versions, limit=limit)
    except QueryError as exc:
        raise bad_request(str(exc)) from None
    for hit in hits:
        hit.pop("version_id", None)
    return as_json(hits)


@router.get("/runs", summary="Crawl runs, newest first (as `newsmon runs --json`)")
def api_runs(request: Request, limit: int = Query(20, ge=1, le=500),
             suspects: bool = Query(False, description="the fetches held back instead"),
             site: str | None = Query(None, description="only this site's runs")):
    archive = _ctx(request).archive
    if not suspects:
        return as_json(list_runs(archive, limit=limit, site=site))
    events = list_fetch_events(archive, limit=limit, outcomes=("suspect", "parse_failure"),
                               site=site)
    return as_json([{"event": e["id"], "run": e["run_id"], "outcome": e["outcome"],
                     "fetched_at": e["fetched_at"], "url": e["url"], "reason": e["message"],
                     "raw_page": e["raw_page_sha"], "accepted_version": e["version"]}
                    for e in events])


@router.get("/stats", summary="Archive statistics (as `newsmon stats --json`)")
def api_stats(request: Request, days: int = Query(30, ge=1, le=3650)):
    return as_json(archive_stats(_ctx(request).archive, days=days))
