"""Rendered changes pages and feeds are kept only while the archive stays the same: a version
written while `newsmon serve` runs (its default worker processes) shows on every page and
feed at the next request, with a new ETag; a version a re-parse rewrites in place shows in
its diff and feed entry, which the server had kept (both backends)."""

from __future__ import annotations

import feedparser
import pytest
from sqlalchemy import select

from storage import Archive
from storage.models import ArticleVersion
from storage.reparse import correct_chain, prepare
from storage.reparse_jobs import write
from tests import pg
from tests.storage.storage_records import make_record
from tests.web.conftest import Server

pytestmark = pytest.mark.slow

RAW = b"<html><body><h1>Rozmowy w Genewie</h1></body></html>"
NEW_TITLE = "Rozmowy w Genewie zerwane po trzech godzinach"
EDITED_BODY = make_record()["body"].replace("Drugi akapit", "Drugi, poprawiony akapit")
REPARSED_BODY = make_record()["body"].replace("Drugi akapit", "Drugi, przeparsowany akapit")


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
        return
    reason = pg.unavailable_reason()
    if reason:
        pytest.skip(reason)
    with pg.temporary_database("newsmon_web_cache") as url:
        yield url


def _fetch(url: str, **changes) -> None:
    """One fetch of the test article, written by this process (not the server's)."""
    record = make_record(**changes)
    with Archive.open(url) as archive:
        run = archive.start_run("rp", base_url="https://www.rp.pl")
        archive.record_fetch(run, "rp", record["article_id"], record["url"], record, RAW)
        archive.finish_run(run, "completed")


def _titles(server: Server, path: str) -> list[str]:
    feed = feedparser.parse(server.get(path).content)
    assert not feed.bozo, feed.bozo_exception
    return [e.title for e in feed.entries]


def test_a_version_written_while_serving_shows_at_the_next_request(archive_url):
    _fetch(archive_url)
    server = Server(archive_url)
    try:
        # Each page twice: the second answer comes from the cache, and is the same.
        for _ in range(2):
            assert "No changes match" in server.get("/").text
            assert _titles(server, "/feeds/changes.atom") == []
            assert len(_titles(server, "/feeds/new.atom")) == 1
        etag = server.get("/feeds/articles/100.atom").headers["etag"]

        _fetch(archive_url, title=NEW_TITLE)

        # (Several requests: with more than one worker, each must notice.)
        for _ in range(4):
            assert NEW_TITLE in server.get("/").text
            assert NEW_TITLE in server.get("/?field=title").text
            assert any(NEW_TITLE in t for t in _titles(server, "/feeds/changes.atom"))
            assert any(NEW_TITLE in t for t in _titles(server, "/feeds/articles/100.atom"))
            assert server.get("/feeds/articles/100.atom").headers["etag"] != etag
    finally:
        server.stop()


def test_a_version_rewritten_in_place_shows_in_its_diff_and_feed(archive_url):
    _fetch(archive_url)
    _fetch(archive_url, body=EDITED_BODY)
    server = Server(archive_url)
    try:
        for _ in range(4):  # kept by every worker
            assert "poprawiony" in server.get("/articles/100/diff").text
            assert "poprawiony" in server.get("/feeds/articles/100.atom").text
        # A re-parse gives version 2 another body, through the library's own rewrite path.
        with Archive.open(archive_url) as archive:
            with archive.engine.connect() as conn:
                article, version_id = conn.execute(
                    select(ArticleVersion.article_id, ArticleVersion.id)
                    .where(ArticleVersion.version == 2)).one()
            record = make_record(body=REPARSED_BODY)
            result = write(archive, lambda s: correct_chain(
                s, article, {version_id: prepare(record, record["url"])}))
            assert result.changed == 1
        for _ in range(4):
            diff = server.get("/articles/100/diff").text
            assert "przeparsowany" in diff and "poprawiony" not in diff
            entry = server.get("/feeds/articles/100.atom").text
            assert "przeparsowany" in entry and "poprawiony" not in entry
    finally:
        server.stop()
