"""`newsmon serve` as a real process over a crawled archive (both backends): the acceptance
case, feeds parsed back with feedparser, the JSON API, escaping, headers, bad input."""

from __future__ import annotations

import html
from email.utils import format_datetime, parsedate_to_datetime

import feedparser
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.web.conftest import NEW_PAYWALL, NEW_TITLE, SEED, XSS, XSS_TITLE

pytestmark = pytest.mark.slow


def _article_path(server, ref: str = SEED) -> str:
    return f"/articles/{server.get(f'/api/articles/{ref}').json()['id']}"


def test_changes_page_lists_the_edit_with_fields_and_summary(server, web_archive):
    page = server.get("/")
    assert page.status_code == 200
    row = next(r for r in page.text.split("<tr>") if html.escape(NEW_TITLE) in r
               or NEW_TITLE in r)
    for label in ("headline", "body", "paywall"):
        assert f">{label}</span>" in row
    assert "headline rewritten" in row
    assert f"paywall {web_archive.old_paywall}% → {NEW_PAYWALL}%" in row
    # Filters: only headline changes still lists it; byline changes do not.
    assert NEW_TITLE in server.get("/?field=title").text
    assert NEW_TITLE not in server.get("/?field=authors").text


def test_diff_page_shows_old_and_new_headline_and_whole_replaced_words(server, web_archive):
    path = _article_path(server)
    for view in ("side", "inline"):
        page = server.get(f"{path}/diff?view={view}")
        assert page.status_code == 200
        body = html.unescape(page.text)
        assert NEW_TITLE.split()[0] in body and web_archive.old_title.split()[0] in body
        assert "<del>Według </del>" in body and "<ins>Zdaniem </ins>" in body
        assert "<del>podpisanie </del>" in body and "<ins>zawarcie </ins>" in body
    assert server.get(f"{path}/diff?from=1&to=2").text == server.get(f"{path}/diff").text


def test_changes_feed_and_article_feed_carry_the_headline_change(server, web_archive):
    for path in ("/feeds/changes.atom", "/feeds/changes.atom?field=title",
                 f"/feeds/articles/{SEED}.atom"):
        response = server.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(response.content)
        assert not feed.bozo, feed.bozo_exception
        assert feed.version == "atom10"
        entry = next(e for e in feed.entries if e.id == f"urn:newsmon:rp:{SEED}:v2")
        content = entry.content[0].value
        assert web_archive.old_title.split()[0] in content and "Stoltenberg ostro" in content
        assert "style=" in content  # readers drop stylesheets
        # --public-url is the base of the links.
        assert entry.link.startswith("https://news.example.org/watch/articles/")
        assert entry.link.endswith("/diff?from=1&to=2")
        assert entry.updated_parsed is not None
    body_only = feedparser.parse(server.get("/feeds/changes.atom?field=authors").content)
    assert body_only.entries == []
    new = feedparser.parse(server.get("/feeds/new.atom").content)
    assert len(new.entries) >= 30 and all(e.id.endswith(":v1") for e in new.entries)
    found = feedparser.parse(server.get("/feeds/search.atom", params={"q": "stoltenberg"})
                             .content)
    assert any(e.id == f"urn:newsmon:rp:{SEED}:v2" for e in found.entries)


def test_feeds_answer_conditional_get_with_304(server):
    first = server.get("/feeds/changes.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert server.get("/feeds/changes.atom", headers={"If-None-Match": etag}).status_code == 304
    assert server.get("/feeds/changes.atom",
                      headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(parsedate_to_datetime(modified).replace(year=2000), usegmt=True)
    assert server.get("/feeds/changes.atom",
                      headers={"If-Modified-Since": earlier}).status_code == 200
    assert server.get("/feeds/changes.atom",
                      headers={"If-None-Match": '"other"'}).status_code == 200
    # Another feed has another validator.
    assert server.get("/feeds/new.atom").headers["etag"] != etag


def test_api_records_match_the_cli(server):
    versions = server.get(f"/api/articles/art{SEED}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["changed_fields"] == ["*"]
    assert {"title", "body", "paywall_percent"} <= set(versions[1]["changed_fields"])
    record = server.get(f"/api/articles/{SEED}").json()
    assert record["title"] == NEW_TITLE and record["version"] == 2
    assert server.get(f"/api/articles/{SEED}?version=1").json()["version"] == 1
    diff = server.get(f"/api/articles/{SEED}/diff?from=1&to=2").json()
    assert diff["from"] == 1 and diff["to"] == 2
    title = next(f for f in diff["fields"] if f["field"] == "title")
    assert title["new"] == NEW_TITLE and title["ops"]
    hits = server.get("/api/search", params={"q": "stoltenberg"}).json()
    assert hits and hits[0]["article_id"] == SEED and "version_id" not in hits[0]
    listing = server.get("/api/articles", params={"changed": "true"}).json()
    assert [a["article_id"] for a in listing] == [SEED]
    assert server.get("/api/runs").json()[0]["status"] == "completed"
    assert server.get("/api/stats").json()["changed_articles"] == 1
    changes = server.get("/api/changes").json()
    assert changes["changes"][0]["article_id"] == SEED and changes["next"] is None
    assert "/api/articles/{ref}/diff" in server.get("/openapi.json").json()["paths"]
    assert "/api/search" in server.get("/api").text


def test_changes_listing_pages_by_keyset(server):
    seen, cursor = [], None
    while True:
        page = server.get("/api/changes", params={"new": "true", "limit": 7,
                                                  **({"before": cursor} if cursor else {})})
        data = page.json()
        seen += [c["version_id"] for c in data["changes"]]
        cursor = data["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 30
    assert seen == sorted(seen, reverse=True)


def test_scraped_markup_is_text_in_pages_feeds_and_api(server):
    path = _article_path(server, XSS)
    for page in (server.get(path).text, server.get("/search", params={"q": "trzech"}).text,
                 server.get(f"/feeds/articles/{XSS}.atom").text):
        assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in server.get(path).text
    feed = feedparser.parse(server.get(f"/feeds/articles/{XSS}.atom").content)
    [entry] = feed.entries
    assert entry.id == f"urn:newsmon:rp:{XSS}:v1"
    assert entry.title.startswith(XSS_TITLE)  # shown as written, not as markup
    assert "<script>" not in entry.content[0].value
    assert server.get(f"/api/articles/{XSS}").json()["title"] == XSS_TITLE


def test_security_headers_and_raw_html_only_as_a_download(server):
    page = server.get("/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in page.text and " on" + "error=" not in page.text
    raw = server.get(_article_path(server) + "/versions/1/raw")
    assert raw.status_code == 200
    assert raw.headers["content-disposition"].startswith("attachment;")
    assert raw.headers["content-type"] == "application/octet-stream"
    assert "sandbox" in raw.headers["content-security-policy"]
    assert b"<html" in raw.content[:5000].lower()


@pytest.mark.parametrize(("path", "status", "reason"), [
    ("/articles/999999999", 404, "no article"),
    ("/articles/not-an-id", 404, "not an article reference"),
    (f"/articles/{SEED}?version=9", 404, "no version 9"),
    (f"/articles/{SEED}/diff?from=1&to=9", 404, "no version 9"),
    (f"/articles/{SEED}/diff?from=1", 400, "both versions"),
    (f"/articles/{SEED}/diff?from=x&to=2", 400, "from"),
    (f"/articles/{SEED}/diff?view=sideways", 400, "unknown view"),
    (f"/articles/{SEED}/versions/7/raw", 404, "no version 7"),
    ("/search?q=%22unclosed", 400, "Bad query"),
    ("/?since=2024-13-45", 400, "not a date"),
    ("/?field=weather", 400, "unknown field"),
    ("/nowhere", 404, "no such page"),
    ("/api/articles/123456789", 404, "no article"),
    ("/api/search?q=(", 400, ""),
    ("/api/articles?since=yesterday", 400, "not a date"),
    ("/feeds/changes.atom?field=weather", 400, "unknown field"),
    ("/feeds/articles/999999999.atom", 404, "no article"),
])
def test_bad_input_gets_a_clean_answer(server, path, status, reason):
    response = server.get(path)
    assert response.status_code == status
    assert "Traceback" not in response.text
    if path.startswith("/api/"):
        assert response.json()["status"] == status and response.json()["error"]
    assert reason in html.unescape(response.text)


def test_the_servers_engine_cannot_write(web_archive):
    from newsmon.web import create_app

    app = create_app(web_archive.url)
    engine = app.state.ctx.archive.engine
    try:
        with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
            conn.execute(text("UPDATE articles SET status = 'gone'"))
        assert "read" in str(caught.value).lower()  # readonly / read-only transaction
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM articles WHERE status = 'gone'")) == 0
    finally:
        engine.dispose()


def test_one_site_archive_offers_no_site_filter_but_takes_the_parameter(server):
    # The replica's archive holds one site: no selector, no site named on each item.
    for path in ("/", "/search?q=Stoltenberg", "/runs"):
        page = server.get(path)
        assert page.status_code == 200
        assert 'name="site"' not in page.text and 'class="site"' not in page.text, path
    # site= filters all the same (the multi-site case: tests/sites/test_many_sites.py).
    everything = server.get("/").text
    assert NEW_TITLE in everything and server.get("/?site=rp").text.count("<tr>") == \
        everything.count("<tr>")
    assert "No changes match." in server.get("/?site=elsewhere").text
    assert "<p>0 results" not in server.get("/search?q=Stoltenberg&site=rp").text
    assert "<p>0 results" in server.get("/search?q=Stoltenberg&site=elsewhere").text
    assert "No runs of elsewhere yet." in server.get("/runs?site=elsewhere").text
    feed = feedparser.parse(server.get("/feeds/changes.atom?site=elsewhere").content)
    assert not feed.bozo and feed.entries == []
    assert feedparser.parse(server.get("/feeds/changes.atom?site=rp").content).entries
