"""A real HTTP server on 127.0.0.1 for a SmallSite: its pages, conditional requests on
articles (ETag / Last-Modified), a request log, and `down` (every request 503)."""

from __future__ import annotations

import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .model import SmallSite


class SiteServer:
    def __init__(self, site: SmallSite, port: int = 0):
        self.site, self.port = site, port
        self.down = False
        self.requests: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> SiteServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
                pass

            def do_GET(self):
                server.requests.append(self.path)
                status, ctype, body, headers = server.respond(self.path, self.headers)
                data = body.encode("utf-8")
                self.send_response(status)
                if status != 304:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data) if status != 304 else 0))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if status != 304:
                    self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def respond(self, target: str, headers) -> tuple[int, str, str, dict[str, str]]:
        if self.down:
            return 503, "text/plain", "down for maintenance", {}
        path = urlsplit(target).path
        with self.site.lock:
            page = self.site.render(self.site, path, self.base_url)
            if page is None:
                return 404, "text/html; charset=utf-8", "<html><body><h1>Not found</h1>" \
                    "</body></html>", {}
            status, ctype, body, story = page
            if story is None:
                return status, ctype, body, {}
            etag = story.etag()
            validators = {"ETag": etag,
                          "Last-Modified": format_datetime(story.last_modified(), usegmt=True)}
            if headers.get("If-None-Match") == etag:
                return 304, ctype, "", validators
            return status, ctype, body, validators

