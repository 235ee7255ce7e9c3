"""Real headless Chromium (Debian's package, driven by Playwright) through the pages: open
Changes, follow the changed article, open its diff, switch views, search, open a feed link.
Asserts on visible text; a screenshot of each page goes to tests/artifacts/web/."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.web.conftest import NEW_TITLE, SEED

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _in_chromium(scenario) -> None:
    """Run `scenario(page)` in headless Chromium, in a thread of its own: Playwright's sync
    API runs an asyncio loop, which cannot nest in the one pytest-twisted's reactor runs."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.fail("chromium is not installed (.ci/run installs Debian's package)")

    def run() -> None:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                scenario(browser.new_page(viewport={"width": 1280, "height": 900}))
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def test_changes_article_diff_search_and_feed_in_chromium(server, web_archive, artifacts):
    shots = artifacts / "web" / web_archive.backend
    shots.mkdir(parents=True, exist_ok=True)
    _in_chromium(lambda page: _walk_through(page, server, web_archive, shots))
    print(f"screenshots in {shots}")


def _walk_through(page, server, web_archive, shots) -> None:
    problems = []
    page.on("console", lambda msg: problems.append(f"{msg.text} {msg.location}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(server.base + "/")
    row = page.locator("table.changes tbody tr", has_text=NEW_TITLE)
    assert row.count() == 1
    row_text = row.inner_text()
    for label in ("headline", "body", "paywall", "headline rewritten"):
        assert label in row_text
    page.screenshot(path=shots / "changes.png", full_page=True)

    row.get_by_role("link", name=NEW_TITLE).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == NEW_TITLE
    timeline = page.locator("aside.timeline").inner_text()
    assert "v1" in timeline and "v2" in timeline and "raw HTML" in timeline
    page.screenshot(path=shots / "article.png", full_page=True)

    page.locator("aside.timeline").get_by_role("link", name="diff").first.click()
    page.wait_for_load_state()
    assert "/diff?from=1&to=2" in page.url
    headline = page.locator("section.field-title")
    assert web_archive.old_title.split()[0] in headline.locator(".old").inner_text()
    assert "Stoltenberg ostro" in headline.locator(".new").inner_text()
    assert page.locator("section.field-body .old del", has_text="Według").count() == 1
    assert page.locator("section.field-body .new ins", has_text="Zdaniem").count() == 1
    page.screenshot(path=shots / "diff-side.png", full_page=True)

    page.get_by_role("link", name="inline").click()
    page.wait_for_load_state()
    assert "view=inline" in page.url
    body = page.locator("section.field-body")
    assert body.locator("del", has_text="podpisanie").count() == 1
    assert body.locator("ins", has_text="zawarcie").count() == 1
    assert page.locator(".pair.change").count() == page.locator("section.field-paywall_percent"
                                                                 " .pair").count()
    page.screenshot(path=shots / "diff-inline.png", full_page=True)

    page.locator("header form.quick input[name=q]").fill("stoltenberg")
    page.locator("header form.quick input[name=q]").press("Enter")
    page.wait_for_load_state()
    first_hit = page.locator("ol.hits li").first
    assert NEW_TITLE in first_hit.inner_text()
    assert first_hit.locator("mark").first.inner_text().lower() == "stoltenberg"
    page.screenshot(path=shots / "search.png", full_page=True)

    page.goto(server.base + "/runs")
    assert "completed" in page.locator("table.runs").inner_text()
    page.screenshot(path=shots / "runs.png", full_page=True)

    page.goto(server.base + f"/articles/{SEED}")
    href = page.get_by_role("link", name="Atom feed of this article").get_attribute("href")
    feed = page.request.get(server.base + href)
    assert feed.status == 200 and f"urn:newsmon:rp:{SEED}:v2" in feed.text()

    assert problems == []  # no CSP violation, no failed asset, no script error on any page

    page.goto(server.base + "/articles/999999999")
    assert "Not found" in page.locator("h1").inner_text()
    page.screenshot(path=shots / "not-found.png")
