"""Regression capture: a stored page out of the archive as it was served (`newsmon raw`), or as
a parser test case (`newsmon fixture add`), so that a parser bug seen in production becomes a
test in one command.

A fixture folder is what tests/parser/test_parser_fixtures.py collects (one folder per case,
tests/parser/parser_cases.py reads it):

    page.html         the bytes as served (never re-encoded)
    url.txt           the URL the page is archived under (the parser resolves links there)
    site.txt          the site profile
    content_type.txt  the HTTP Content-Type it came with (the crawl's decoder reads it)
    fetched_at.txt    when it was fetched (the profile variant in force then parses it)
    expected.json     the record the current parser gives, parser_version left out

expected.json is what the parser says today, bug included: fix the parser, correct the
file to what the page really says, and the case guards the fix.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.parsers import parse_article
from crawler.parsers.decode import decode_html
from crawler.parsers.profile import load_profile
from storage.query.raw import event_page, version_page

FIXTURE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
IGNORED = ("parser_version",)  # as the fixture test ignores it


class CaptureError(ValueError):
    """A capture that cannot be made (bad name, folder exists, no page)."""


def stored_page(archive, target: str) -> dict[str, Any]:
    """`event:ID` (a fetch event) or `ARTICLE[@VERSION]` (storage.query.raw)."""
    if target.startswith("event:"):
        number = target.removeprefix("event:")
        if not number.isdigit():
            raise CaptureError(f"not a fetch event id: {number!r}")
        return event_page(archive, int(number))
    ref, version = split_version(target)
    return version_page(archive, ref, version)


def split_version(target: str) -> tuple[str, int | None]:
    """ARTICLE@VERSION -> (ARTICLE, VERSION); no @ -> (ARTICLE, None)."""
    ref, sep, version = target.rpartition("@") if "@" in target else (target, "", "")
    if not sep:
        return target, None
    if not version.isdigit() or int(version) < 1:
        raise CaptureError(f"not a version number: {version!r}")
    return ref, int(version)


def expected_record(data: bytes, content_type: str | None, url: str | None, site: str,
                    fetched_at: datetime | None) -> dict[str, Any]:
    """The record a fixture's expected.json holds: the page decoded with its content type
    and parsed with the profile variant in force when it was fetched."""
    text = decode_html(data, content_type).text
    record = parse_article(text, url=url, site=load_profile(site, at=fetched_at)).to_dict()
    return {k: v for k, v in record.items() if k not in IGNORED}


def add_fixture(page: dict[str, Any], name: str, directory: Path, *,
                force: bool = False) -> Path:
    """Write `page` (stored_page's result) as fixture folder `directory/name`."""
    if not FIXTURE_NAME.match(name):
        raise CaptureError(f"fixture name {name!r}: use lower-case letters, digits, ., _, -")
    if not page.get("site"):
        raise CaptureError("the page belongs to no known article, so no site profile")
    folder = directory / name
    if folder.exists():
        if not force:
            raise CaptureError(f"{folder} exists (--force replaces it)")
        shutil.rmtree(folder)
    expected = expected_record(page["data"], page["content_type"], page["url"], page["site"],
                               page["fetched_at"])
    folder.mkdir(parents=True)
    (folder / "page.html").write_bytes(page["data"])
    texts = {"url.txt": page["url"], "site.txt": page["site"],
             "content_type.txt": page["content_type"],
             "fetched_at.txt": page["fetched_at"].isoformat() if page["fetched_at"] else None}
    for file, value in texts.items():
        if value:
            (folder / file).write_text(value + "\n", encoding="utf-8")
    (folder / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return folder
