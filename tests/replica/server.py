"""Real HTTP server for the replica (stdlib ThreadingHTTPServer in a background thread), with a
request log, conditional requests and per-path fault injection."""

from __future__ import annotations

import gzip
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import render
from .model import RP
from .site import ReplicaSite

ARTICLE_RE = re.compile(r"^/(?P<section>[a-z0-9-]+(?:/[a-z0-9-]+)*)/art(?P<id>\d{8})"
                        r"(?:-[^/]*)?/?$")
LISTING_PATHS = ("/dyplomacja", "/dyplomacja/", "/wydarzenia/swiat/dyplomacja")
FAULT_KINDS = ("status", "retry_after", "reset", "hang", "truncate", "charset", "interstitial",
               "redirect_loop", "redirect", "soft404", "oversize", "gone", "slow")


@dataclass
class RequestRecord:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    status: int = 0
    bytes_sent: int = 0
    fault: str | None = None
    time: float = field(default_factory=time.time)


@dataclass
class Fault:
    pattern: str | re.Pattern
    kind: str
    times: int | None = None  # None: every matching request
    opts: dict = field(default_factory=dict)
    hits: int = 0

    def matches(self, path: str, full: str) -> bool:
        if isinstance(self.pattern, re.Pattern):
            return bool(self.pattern.search(full))
        return self.pattern in (path, full)


class Faults:
    """Per-path fault rules. `add("/dyplomacja/art…", "status", times=2, status=503)`; a str
    matches the path exactly (with or without query), a compiled regex is searched in
    path+query. The first active matching rule wins; `times` counts its uses."""

    def __init__(self):
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, pattern: str | re.Pattern, kind: str, times: int | None = None,
            **opts) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        rule = Fault(pattern, kind, times, opts)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, path: str, full: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                if rule.matches(path, full):
                    rule.hits += 1
                    return rule
        return None

    def __len__(self) -> int:
        return len(self._rules)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    ctype: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for hanging handlers
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 makes concurrent clients wait 1 s for SYN retries

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Unblock handler threads idling on keep-alive connections (they would outlive stop())."""
        with self.sockets_lock:
            socks = list(self.open_sockets)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ReplicaServer:
    """Serve a ReplicaSite over HTTP on 127.0.0.1 (port 0 = any free port)."""

    def __init__(self, site: ReplicaSite | None = None, host: str = "127.0.0.1", port: int = 0,
                 real_links: str | None = None):
        self.site = site or ReplicaSite.default()
        self.host, self.port = host, port
        # None: every www.rp.pl link is rewritten to this server. "head": pages keep the real
        # site's canonical, og:url and JSON-LD links, as a mirror or a saved copy does; "all":
        # listings, sitemaps, RSS and body links keep them too (render.rebase).
        self.real_links = render.check_real_links(real_links)
        self.faults = Faults()
        self.send_validators = True
        # Opt-in: gzip bodies for clients that accept it (off by default so that byte counts
        # and size faults mean raw bytes).
        self.compress = False
        self.requests: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> ReplicaServer:
        if self._httpd:
            return self
        handler = type("Handler", (_Handler,), {"replica": self})
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True,
                                        name=f"replica:{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._httpd:
            return
        self._stopping.set()  # releases "hang" handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.drop_connections()
        self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def article_url(self, article_id) -> str:
        return self.base_url + self.site.article(article_id).path

    def expected(self, article_id) -> dict:
        """Ground truth of an article as this server serves it: fetched from this server, its
        canonical link on www.rp.pl when the server keeps the real site's links."""
        return self.site.expected(article_id, self.base_url, link_base=self.link_base)

    @property
    def link_base(self) -> str:
        """The base the served pages' canonical links name."""
        return RP if self.real_links else self.base_url

    # --- switches proxied to the site -------------------------------------------------------

    @property
    def redesign(self) -> bool:
        return self.site.redesign

    @redesign.setter
    def redesign(self, on: bool) -> None:
        self.site.redesign = on

    # --- request log ------------------------------------------------------------------------

    def clear_log(self) -> None:
        with self._log_lock:
            self.requests.clear()

    def _log(self, rec: RequestRecord) -> None:
        with self._log_lock:
            self.requests.append(rec)

    def paths(self, method: str | None = None) -> list[str]:
        with self._log_lock:
            return [r.path for r in self.requests if method in (None, r.method)]

    # --- routing ----------------------------------------------------------------------------

    def respond(self, method: str, target: str, headers: dict[str, str]) -> Response:
        """The normal (fault-free) answer for a request."""
        site = self.site
        base = self.base_url
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/robots.txt":
            sitemap_base = RP if self.real_links == "all" else base
            return Response(body=site.robots_txt.replace("{base}", sitemap_base).encode(),
                            ctype="text/plain; charset=utf-8")
        if path in LISTING_PATHS:
            return self._listing(query)
        if path == "/":
            return self._page(("home", site.rev), lambda: render.home_page(site))
        if path == "/rss_main":
            return self._page(("rss", site.rev), lambda: render.rss(site),
                              "application/rss+xml; charset=utf-8")
        if path.startswith("/sitemaps/"):
            return self._sitemap(path[len("/sitemaps/"):])
        m = ARTICLE_RE.match(path)
        if m:
            return self._article(m.group("section"), m.group("id"), headers)
        return self.error(404)

    def error(self, status: int) -> Response:
        return Response(status, self._rebase(render.error_page(status)))

    def _rebase(self, text: str) -> bytes:
        return render.rebase(text, self.base_url, self.real_links).encode()

    def _cached(self, key, build) -> str:
        site = self.site
        key = (key, site.redesign, site.redesign_ids,
               json.dumps(site.class_renames, sort_keys=True))
        with site.lock:
            hit = site.cache.get(key)
            if hit is not None:
                site.cache.move_to_end(key)
                return hit
        text = build()
        if site.redesign or site.class_renames:
            text = render.redesign(text, site.class_renames, site.redesign_ids)
        with site.lock:
            site.cache[key] = text
            while len(site.cache) > site.cache_size:
                site.cache.popitem(last=False)
        return text

    def _page(self, key, build, ctype="text/html; charset=utf-8") -> Response:
        return Response(200, self._rebase(self._cached(key, build)), ctype)

    def _listing(self, query) -> Response:
        try:
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            return self.error(404)
        site = self.site
        n_live = len(site.live_articles())
        if page < 1 or (page - 1) * site.page_size >= max(n_live, 1):
            return self.error(404)
        if query.get("ajax") == ["1"]:
            cards, has_next = render.listing_cards(site, page)
            cards = render.rebase(cards, self.base_url, self.real_links)
            body = json.dumps({"html": cards, "page": page, "hasNext": has_next},
                              ensure_ascii=False)
            return Response(200, body.encode(), "application/json; charset=utf-8")
        key = ("listing", page, site.rev, site.listing_variants, site.page_size)
        return self._page(key, lambda: render.listing_page(site, page))

    def _sitemap(self, name: str) -> Response:
        site = self.site
        xml = "application/xml; charset=utf-8"
        if name == "sitemap.xml":
            return self._page(("smi", site.rev), lambda: render.sitemap_index(site), xml)
        if name == "news-sitemap.xml":
            return self._page(("news", site.rev), lambda: render.news_sitemap(site), xml)
        text = render.other_sitemap(site, name)
        if text is None:
            return self.error(404)
        return Response(200, self._rebase(text), xml)

    def _article(self, section: str, aid: str, headers: dict[str, str]) -> Response:
        site = self.site
        with site.lock:
            a = site.get(aid)
            if a is not None and section not in a.served_sections:
                a = None
            if a is None:
                other = site.others.get(aid)
                a = other if other is not None and other.section_slug == section else None
            if a is None:
                return self.error(404)
            if a.removed:
                return self.error(a.removed)
            snap = a.snapshot()
        etag = f'"{snap.fingerprint()}"'
        last_mod = snap.last_modified
        validators = {}
        if self.send_validators:
            validators = {"ETag": etag, "Last-Modified": format_datetime(last_mod, usegmt=True)}
            if _not_modified(headers, etag, last_mod):
                return Response(304, b"", headers=validators)
        text = self._cached(("art", aid, etag), lambda: render.article_page(site, snap))
        return Response(200, self._rebase(text), headers=validators)


def _not_modified(headers: dict[str, str], etag: str, last_mod: datetime) -> bool:
    # RFC 9110: If-None-Match wins over If-Modified-Since when both are sent.
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_mod <= since
    return False


class _Handler(BaseHTTPRequestHandler):
    replica: ReplicaServer  # set on the per-server subclass
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections are dropped eventually
    def version_string(self) -> str:
        return "nginx"

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def do_GET(self):
        self._serve("GET")

    def do_HEAD(self):
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        rep = self.replica
        headers = {k.lower(): v for k, v in self.headers.items()}
        rec = RequestRecord(method, self.path, dict(self.headers.items()))
        rep._log(rec)
        path = urlsplit(self.path).path
        try:
            fault = rep.faults.take(path, self.path)
            if fault:
                rec.fault = fault.kind
                self._fault(fault, method, headers, rec)
            else:
                self._send(rep.respond(method, self.path, headers), method, rec)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a bug in the replica must show up as a 500, not a hung client
            import traceback

            traceback.print_exc()
            self._send(Response(500, b"replica error", "text/plain"), method, rec)

    # --- plumbing ---------------------------------------------------------------------------

    def _head(self, status: int, ctype: str | None, length: int | None,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _send(self, resp: Response, method: str, rec: RequestRecord) -> None:
        body = resp.body if resp.status != 304 else b""
        ctype = resp.ctype if resp.status != 304 else None
        if (self.replica.compress and len(body) > 1024
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body, 5)
            resp.headers = {**resp.headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        # Record before writing: a fast client may look at the log before this thread resumes.
        rec.status = resp.status
        rec.bytes_sent = len(body) if method != "HEAD" else 0
        self._head(resp.status, ctype, len(body) if resp.status != 304 else None, resp.headers)
        if method != "HEAD" and body:
            self.wfile.write(body)

    def _normal(self, method: str, headers: dict[str, str]) -> Response:
        return self.replica.respond(method, self.path, headers)

    def _fault(self, f: Fault, method: str, headers: dict[str, str], rec: RequestRecord) -> None:
        rep, o = self.replica, f.opts
        kind = f.kind
        if kind == "status":
            status = o.get("status", 500)
            self._send(Response(status, rep._rebase(render.error_page(status))), method, rec)
        elif kind == "retry_after":
            status = o.get("status", 429)
            resp = Response(status, b"Too Many Requests" if status == 429 else b"Unavailable",
                            "text/plain; charset=utf-8",
                            {"Retry-After": str(o.get("seconds", 1))})
            self._send(resp, method, rec)
        elif kind == "gone":
            self._send(rep.error(o.get("status", 410)), method, rec)
        elif kind == "soft404":
            self._send(Response(200, rep.error(404).body), method, rec)
        elif kind == "interstitial":
            body = rep._rebase(render.interstitial(o.get("variant", "consent")))
            self._send(Response(200, body), method, rec)
        elif kind == "redirect":
            loc = o.get("location") or "https://www.rp.pl" + self.path
            self._send(Response(o.get("status", 302), b"", headers={"Location": loc}),
                       method, rec)
        elif kind == "redirect_loop":
            # Alternate between two URLs of the same path; both match the rule.
            parts = urlsplit(self.path)
            loc = parts.path if "loop=1" in parts.query else parts.path + "?loop=1"
            self._send(Response(o.get("status", 302), b"", headers={"Location": loc}),
                       method, rec)
        elif kind == "slow":
            # Answer normally after a delay (cut short when the server stops).
            rep._stopping.wait(o.get("seconds", 1.0))
            self._send(self._normal(method, headers), method, rec)
        elif kind == "hang":
            # Never answer; released when the server stops (or after `seconds`).
            rep._stopping.wait(o.get("seconds"))
            self.close_connection = True
            rec.status = 0
        elif kind == "reset":
            resp = self._normal(method, headers)
            cut = int(len(resp.body) * o.get("share", 0.3))
            rec.status, rec.bytes_sent = resp.status, cut
            self._head(resp.status, resp.ctype, len(resp.body), resp.headers)
            self.wfile.write(resp.body[:cut])
            self.wfile.flush()
            # SO_LINGER 0: close() sends RST, the client sees a reset mid-body.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif kind == "truncate":
            resp = self._normal(method, headers)
            cut = int(len(resp.body) * o.get("share", 0.5))
            resp.body = resp.body[:cut]
            self._send(resp, method, rec)
        elif kind == "charset":
            resp = self._normal(method, headers)
            self._send(_recode(resp, o.get("encoding", "iso-8859-2"),
                               o.get("declare", "wrong")), method, rec)
        elif kind == "oversize":
            resp = self._normal(method, headers)
            size = int(o.get("size", 20 * 1024 * 1024))
            pad = max(0, size + 1 - len(resp.body))
            rec.status = 200
            rec.bytes_sent = len(resp.body) + pad if method != "HEAD" else 0
            self._head(200, resp.ctype, len(resp.body) + pad)
            if method != "HEAD":
                # The padding goes before </body> in chunks; memory stays flat.
                head, sep, tail = resp.body.rpartition(b"</body>")
                self.wfile.write(head)
                chunk = b"<!-- " + b"x" * (64 * 1024 - 9) + b" -->"
                left = pad
                while left > 0:
                    piece = chunk[:left] if left < len(chunk) else chunk
                    self.wfile.write(piece)
                    left -= len(piece)
                self.wfile.write(sep + tail)


def _recode(resp: Response, encoding: str, declare: str) -> Response:
    """Re-encode a UTF-8 page in a Polish legacy charset with a wrong or missing declaration
    ("correct" declares it properly, as a control)."""
    text = resp.body.decode("utf-8")
    if declare == "missing":
        text = text.replace('<meta charset="utf-8">', "")
        ctype = "text/html"
    elif declare == "correct":
        text = text.replace('<meta charset="utf-8">', f'<meta charset="{encoding}">')
        ctype = f"text/html; charset={encoding}"
    else:  # wrong: still claims UTF-8
        ctype = "text/html; charset=utf-8"
    body = text.encode(encoding, errors="xmlcharrefreplace")
    return Response(resp.status, body, ctype, resp.headers)

