"""Real receivers on 127.0.0.1 for notification tests: a webhook server that checks the HMAC,
records what it got and can fail on demand; an SMTP server (aiosmtpd) that keeps messages."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Webhook:
    """`fail_with`: an HTTP status to answer instead of 200 (with `retry_after`), or None.
    `stall_at`: the request (0-based, counted over all of them) that is recorded and then
    left unanswered until `release` is set (`stalled` tells it arrived). `together`: the
    first two requests are held until both are in flight (two senders at once: one sender
    posts one request at a time); `together.broken` tells they never were."""

    def __init__(self, secret: str | None = None):
        self.secret = secret
        self.received: list[dict] = []
        self.bad_signatures = 0
        self.fail_with: int | None = None
        self.retry_after: str | None = None
        self.stall_at: int | None = None
        self.stalled, self.release = threading.Event(), threading.Event()
        self.together: threading.Barrier | None = None
        self.requests = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    index, owner.requests = owner.requests, owner.requests + 1
                if owner.together is not None and index < 2:
                    try:  # a safety bound, not a timing assertion: broken means "never both"
                        owner.together.wait(timeout=120)
                    except threading.BrokenBarrierError:
                        pass
                if owner.fail_with:
                    self.send_response(owner.fail_with)
                    if owner.retry_after:
                        self.send_header("Retry-After", owner.retry_after)
                    self.end_headers()
                    return
                if owner.secret is not None:
                    expected = "sha256=" + hmac.new(owner.secret.encode(), body,
                                                    hashlib.sha256).hexdigest()
                    if not hmac.compare_digest(expected,
                                               self.headers.get("X-Newsmon-Signature", "")):
                        owner.bad_signatures += 1
                        self.send_response(401)
                        self.end_headers()
                        return
                owner.received.append({"path": self.path, "headers": dict(self.headers),
                                       "json": json.loads(body)})
                if index == owner.stall_at:
                    owner.stalled.set()
                    owner.release.wait(timeout=300)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Smtp:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                owner.messages.append(message_from_bytes(envelope.content,
                                                         policy=policy.default))
                return "250 OK"

        with socket.socket() as probe:  # the controller cannot start on port 0
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self):
        self.controller.stop()
