"""Regression capture: `newsmon raw` gives back the bytes the replica served, and `newsmon
fixture add` makes a parser test case that the existing fixture test collects, which fails
before the parser fix and passes after it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.crawl.helpers import REPO, newsmon
from tests.reparse.helpers import BROKEN_CAPTION, config_dir, crawl_with

pytestmark = pytest.mark.slow

FIXTURE_TEST = str(REPO / "tests" / "parser" / "test_parser_fixtures.py")


def _fixture_test(pages, name: str, cwd) -> subprocess.CompletedProcess:
    """`pytest -k NAME` over the fixture folders in `pages`, from `cwd` (whose sites/ folder,
    the project layer of the configuration, holds the profile the parser uses)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", FIXTURE_TEST,
         "-k", name], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NEWSMON_FIXTURE_PAGES": str(pages)})


def test_raw_gives_back_the_served_bytes(replica, tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    aid = replica.site.case("seed").article_id
    with urllib.request.urlopen(replica.article_url(aid), timeout=30) as response:
        served = response.read()
    result = crawl_with(replica.base_url, db)
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "page.html"
    proc = newsmon("raw", f"art{aid}@1", "--db", db, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == served
    piped = subprocess.run([sys.executable, "-m", "newsmon", "raw", aid, "--db", db],
                           cwd=REPO, capture_output=True, timeout=60)
    assert piped.returncode == 0 and piped.stdout == served
    for bad, message in ((f"{aid}@9", "no version 9"), ("event:999999", "no fetch event"),
                         ("123", "no article"), (f"{aid}@x", "not a version")):
        proc = newsmon("raw", bad, "--db", db)
        assert proc.returncode == 2 and message in proc.stderr, (bad, proc.stderr)


def test_a_captured_page_fails_before_the_fix_and_passes_after(replica, tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    broken = config_dir(tmp_path / "broken", selectors=BROKEN_CAPTION)
    fixed = tmp_path / "fixed"  # no sites/ folder: the shipped profile
    fixed.mkdir()
    result = crawl_with(replica.base_url, db, config=broken)
    assert result.returncode == 0, result.stderr[-2000:]
    aid = replica.site.case("several_authors").article_id
    pages = tmp_path / "pages"
    pages.mkdir()
    name = "captured-lost-caption"
    added = newsmon("fixture", "add", f"{aid}@1", name, "--dir", str(pages), "--db", db,
                    env={"NEWSMON_CONFIG_DIR": str(broken)})
    assert added.returncode == 0, added.stderr
    folder = pages / name
    assert {p.name for p in folder.iterdir()} == {
        "page.html", "url.txt", "site.txt", "content_type.txt", "fetched_at.txt",
        "expected.json"}
    assert (folder / "content_type.txt").read_text().strip() == "text/html; charset=utf-8"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert expected["image"]["caption"] is None  # what the broken parser says today
    # Captured with the bug, the case passes as long as the bug is there.
    assert _fixture_test(pages, name, broken).returncode == 0

    # Correct expected.json to what the page really says (the replica knows the caption)...
    truth = replica.site.expected(aid)["image"]["caption"]
    assert truth
    expected["image"]["caption"] = truth
    expected["sources"]["image.caption"] = "selector"
    expected["sources"]["layout"] = sorted(expected["sources"]["layout"]
                                           + ["image:image_caption"])
    (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2),
                                          encoding="utf-8")
    # ... and the case fails before the parser fix and passes after it.
    before = _fixture_test(pages, name, broken)
    assert before.returncode == 1 and "1 failed" in before.stdout, before.stdout[-2000:]
    after = _fixture_test(pages, name, fixed)
    assert after.returncode == 0 and "1 passed" in after.stdout, after.stdout[-2000:]
    refused = newsmon("fixture", "add", f"{aid}@1", name, "--dir", str(pages), "--db", db)
    assert refused.returncode == 2 and "exists" in refused.stderr
