"""One decoder: a page in a Polish legacy charset with a wrong or missing declaration gives the
same record through `newsmon parse` as through a real crawl of the replica that serves it."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import datetime

import pytest

from tests.crawl.helpers import crawl, newsmon

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

SEED = "40671561"
TITLE = "Sekretarz generalny NATO reaguje na pakt obronny zawarty przez Rosję i Koreę Północną"
DATES = ("published_at", "updated_at")


def _instant(value: str | None) -> datetime | None:
    # The archive stores instants in UTC; the parser keeps the page's offset.
    return datetime.fromisoformat(value) if value else None


@pytest.mark.parametrize(
    ("encoding", "declare", "codec"),
    [("windows-1250", "missing", "cp1250"), ("iso-8859-2", "wrong", "iso8859-2")],
    ids=["cp1250-undeclared", "iso-8859-2-declared-utf8"],
)
def test_parse_and_crawl_give_the_same_record(replica, tmp_path, encoding, declare, codec):
    replica.faults.add(re.compile(rf"/dyplomacja/art{SEED}\b"), "charset",
                       encoding=encoding, declare=declare)
    url = replica.article_url(SEED)
    with urllib.request.urlopen(url, timeout=30) as response:
        raw = response.read()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really a legacy page, and not declared as one
    page = tmp_path / "page.html"
    page.write_bytes(raw)

    db = f"sqlite:///{tmp_path / 'archive.db'}"
    run = crawl(replica.base_url, db)
    assert run.returncode == 0, run.stderr
    assert run.run["suspect"] == 0 and run.run["parse_failures"] == 0
    assert f"decoded as {codec}" in run.stderr  # the crawl's charset warning
    shown = newsmon("show", SEED, "--db", db, "--json")
    assert shown.returncode == 0, shown.stderr
    archived = json.loads(shown.stdout)

    parsed_proc = newsmon("parse", str(page), "--url", url)
    assert parsed_proc.returncode == 0, parsed_proc.stderr
    assert f"decoded as {codec}" in parsed_proc.stderr  # the same warning from the same decoder
    parsed = json.loads(parsed_proc.stdout)

    assert parsed["title"] == TITLE
    # Every field of the parsed record, except the URL the archive names the article by.
    fields = sorted(set(parsed) - {"url"})
    assert "body" in fields and "authors" in fields
    for name in fields:
        if name in DATES:
            assert _instant(archived[name]) == _instant(parsed[name]), name
        else:
            assert archived[name] == parsed[name], name
