"""Fixture folders as tests (web-poet style): every folder of tests/fixtures/pages/ is one case,
its page parsed and compared field by field with expected.json. Adding a regression case is
adding a folder. Set NEWSMON_UPDATE_FIXTURES=1 to (re)write expected.json from the current
parser — then read the diff before committing it."""

from __future__ import annotations

import json
import os

import pytest
from parser_cases import all_cases

from crawler.parsers import parse_article

CASES = all_cases()
# Compared strictly, sources included; parser_version is left out so that bumping it does not
# rewrite every fixture.
IGNORED = {"parser_version"}


def _actual(case) -> dict:
    record = parse_article(case.html(), url=case.url, site=case.site)
    return {k: v for k, v in record.to_dict().items() if k not in IGNORED}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case):
    actual = _actual(case)
    if os.environ.get("NEWSMON_UPDATE_FIXTURES") == "1":
        (case.folder / "expected.json").write_text(
            json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    expected = case.expected
    assert expected is not None, f"{case.name}: no expected.json"
    expected = {k: v for k, v in expected.items() if k not in IGNORED}
    # Field by field first, for a readable failure; then the whole record (no extra keys).
    for key in expected:
        assert actual.get(key) == expected[key], f"{case.name}: field {key!r}"
    assert actual == expected
