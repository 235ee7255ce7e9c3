"""Fixture folders as tests (web-poet style): every folder of tests/fixtures/pages/ is one case.
Adding a regression case is adding a folder.

- `page.html` folders (hand-made pages): expected.json is the whole expected record.
- `replica.json` folders (pages rendered by tests.replica at test time): the expected record is
  the replica's own ground truth (`expected_record()`, which follows the replica's generated
  text as it evolves) overlaid with expected.json, which pins what the case is about — dates,
  authors, paywall flags, `sources`. Fields listed in replica.json's "unchecked" (with a reason
  in its "note") are left out, e.g. the body of a redesigned page that only generic extraction
  can read.

Every field is compared (sources included); only parser_version is ignored, so that bumping it
does not rewrite every fixture. NEWSMON_UPDATE_FIXTURES=1 rewrites expected.json from the
current parser — read the diff before committing it."""

from __future__ import annotations

import json
import os

import pytest
from parser_cases import all_cases

from crawler.parsers import load_profile, parse_article
from crawler.parsers.decode import decode_html

CASES = all_cases()
IGNORED = {"parser_version"}
# What a replica case's expected.json pins on top of the ground truth.
PINNED = ("article_id", "published_at", "updated_at", "authors", "paywalled", "paywall_percent",
          "body_complete", "sources")


def _actual(case) -> dict:
    # Bytes are decoded as a crawl decodes them, with the Content-Type they came with.
    html = case.html()
    if isinstance(html, bytes):
        html = decode_html(html, case.content_type).text
    record = parse_article(html, url=case.url, site=load_profile(case.site, at=case.fetched_at))
    return {k: v for k, v in record.to_dict().items() if k not in IGNORED}


def _update(case, actual: dict) -> None:
    doc = {k: actual[k] for k in PINNED} if case.replica else actual
    (case.folder / "expected.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case):
    actual = _actual(case)
    if os.environ.get("NEWSMON_UPDATE_FIXTURES") == "1":
        _update(case, actual)
    pinned = case.expected
    assert pinned is not None, f"{case.name}: no expected.json"
    if case.replica:
        expected = {k: v for k, v in case.ground_truth().items() if k != "body_blocks"}
        expected.update(pinned)
        for key in case.replica.get("unchecked", ()):
            expected.pop(key, None)
            actual.pop(key, None)
    else:
        expected = dict(pinned)
    expected = {k: v for k, v in expected.items() if k not in IGNORED}
    # Field by field first, for a readable failure; then the whole record (no extra keys).
    for key in expected:
        assert actual.get(key) == expected[key], f"{case.name}: field {key!r}"
    assert actual == expected
