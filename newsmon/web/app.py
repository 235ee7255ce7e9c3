"""The web application: routes from pages, feeds and api; security headers; errors as clean
pages (HTML), JSON (/api/) or plain text (feeds), never a traceback."""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager
from importlib.resources import files

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsmon.web import api, feeds, pages
from newsmon.web.context import Context, WebError
from newsmon.web.db import open_archive
from storage import Archive

log = logging.getLogger(__name__)

# No script at all, from anywhere; styles and images only from here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response that does not set its own. Plain ASGI: the
    decorator form (BaseHTTPMiddleware) runs each request through an extra task and stream,
    a measurable share of a cached page's time."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


# How many requests each worker process handles at once. The handlers are plain functions
# run in threads, and every database call releases Python's lock and must win it back from
# the thread rendering another page: with the default 40 threads, a search (hundreds of such
# calls) waited on other requests' rendering and cost twice the CPU (on the 100,000-article
# benchmark, search p95 270 ms against 55 with one thread). SQLite's work is all in-process,
# so one handler; PostgreSQL's includes waits on the server, which a second one fills.
HANDLER_THREADS = {"sqlite": 1, "postgresql": 2}


@asynccontextmanager
async def _lifespan(app: FastAPI):
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.handler_threads
    yield


def create_app(db_url: str, *, public_url: str | None = None) -> FastAPI:
    """The application over the archive at `db_url`, opened read-only (newsmon.web.db).
    Raises ArchiveUnavailable when it cannot be served."""
    archive = Archive(open_archive(db_url))
    app = FastAPI(title="newsmon", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", lifespan=_lifespan,
                  description="Read-only access to a newsmon archive: articles, versions, "
                              "diffs, search, runs, statistics. Records and field names are "
                              "those of the CLI's --json output.")
    app.state.ctx = Context(archive, public_url)
    app.state.handler_threads = HANDLER_THREADS.get(archive.engine.dialect.name, 2)
    app.mount("/static", StaticFiles(directory=str(files("newsmon.web") / "static")),
              name="static")
    app.include_router(pages.router)
    app.include_router(feeds.router)
    app.include_router(api.router)

    @app.get("/api", include_in_schema=False, response_class=HTMLResponse)
    @app.get("/api/", include_in_schema=False, response_class=HTMLResponse)
    def api_docs(request: Request):
        # The OpenAPI schema the framework generates, rendered without any script (the
        # framework's own pages load JavaScript from a CDN).
        schema = app.openapi()
        return HTMLResponse(app.state.ctx.render("api.html", schema=schema,
                                                 request_path=request.url.path))

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError):
        return _error(request, exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        reasons = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ())[1:]) or "request"
            reasons.append(f"{where}: {err.get('msg', 'invalid')}")
        return _error(request, 400, "; ".join(reasons) or "bad request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return _error(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        log.exception("error serving %s", request.url.path)
        return _error(request, 500, "internal error (logged by the server)")

    return app


# Where `newsmon serve --workers N` leaves the settings for each worker process.
APP_SETTINGS = "_NEWSMON_SERVE_SETTINGS"


def app_from_environment() -> FastAPI:
    """The application of one worker process of `newsmon serve` (uvicorn's factory)."""
    settings = json.loads(os.environ[APP_SETTINGS])
    return create_app(settings["db"], public_url=settings.get("public_url"))


def _error(request: Request, status: int, message: str):
    path = request.url.path
    if path.startswith("/api/") or path == "/openapi.json":
        return api.as_json({"error": message, "status": status}, status)
    if path.startswith("/feeds/"):
        return PlainTextResponse(f"{status}: {message}\n", status_code=status)
    ctx: Context = request.app.state.ctx
    html = ctx.render("error.html", status=status, message=message, request_path=path)
    response = HTMLResponse(html, status_code=status)
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response
