"""A real archive for the web tests, and `newsmon serve` running over it as a real process.

The archive: the replica crawled twice by `newsmon crawl`; between the crawls one article's
headline, a body sentence and its paywall change (the issue's acceptance case), and from the
start another article's headline is an XSS attempt. One archive per backend per session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import pg
from tests.crawl.helpers import REPO, crawl
from tests.replica import ReplicaServer, ReplicaSite

SEED = "40671561"  # headline, a body sentence and the paywall change between the crawls
XSS = "44455012"  # headline with markup from the start
NEW_TITLE = "Stoltenberg ostro o pakcie Rosji z Koreą Północną"
OLD_WORDS = "Według Stoltenberga podpisanie paktu obronnego"
NEW_WORDS = "Zdaniem Stoltenberga zawarcie paktu obronnego"
NEW_PAYWALL = 60
XSS_TITLE = '<script>alert("x")</script> "><img src=x onerror=alert(1)> Trzech autorów'
ARTIFACTS = REPO / "tests" / "artifacts"


@dataclass
class WebArchive:
    url: str
    backend: str
    old_title: str
    old_paywall: int | None


def _build(url: str, backend: str) -> WebArchive:
    site = ReplicaSite.default()
    site.edit_title(XSS, XSS_TITLE)
    old = site.article(SEED)
    old_title, old_paywall = old.title, old.paywall_percent
    with ReplicaServer(site) as server:
        first = crawl(server.base_url, url, "--recheck", "all")
        assert first.returncode == 0, first.stderr[-2000:]
        site.edit_title(SEED, NEW_TITLE)
        site.replace_text(SEED, OLD_WORDS, NEW_WORDS)
        site.set_paywall_percent(SEED, NEW_PAYWALL)
        second = crawl(server.base_url, url, "--recheck", "all")
        assert second.returncode == 0, second.stderr[-2000:]
    return WebArchive(url, backend, old_title, old_paywall)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def web_archive(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("web") / "archive.db"
        yield _build(f"sqlite:///{path}", "sqlite")
        return
    reason = pg.unavailable_reason()
    if reason:
        pytest.skip(reason)
    with pg.temporary_database("newsmon_web") as url:
        yield _build(url, "postgresql")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, db_url: str, *extra: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsmon", "serve", "--port", str(self.port), "--db", db_url,
             *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"newsmon serve exited: {self.proc.stderr.read()}")
            try:
                if httpx.get(self.base + "/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("newsmon serve did not answer within 30 s")

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.base + path, timeout=30, **kwargs)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def server(web_archive):
    srv = Server(web_archive.url, "--public-url", "https://news.example.org/watch")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
