"""One real archive per backend for the whole session: the replica crawled twice by the real
`newsmon crawl` command, with edits in between (a headline, a body sentence, a paywall
percentage), so every query runs against what a crawl actually stores.

PostgreSQL: a database of its own at $NEWSMON_TEST_PG (as tests/storage); skipped when the
server is unreachable. Test modules are named test_query_* and this folder has no
__init__.py (like tests/storage).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.replica import ReplicaServer, ReplicaSite

PG_ADMIN_URL = os.environ.get("NEWSMON_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

SEED = "40671561"  # headline and one body sentence edited between the crawls
PAYWALL = "42016502"  # paywall percentage 89 -> 55
FOLDING = "44186001"  # body gets "Łódź" and "gęślą"
PLAIN = "44702266"  # body gets the unaccented "Lodz"
FORMULA = "44455012"  # title starts like a spreadsheet formula

NEW_TITLE = "Stoltenberg ostro o pakcie Rosji z Koreą Północną"
OLD_SENTENCE = "Według Stoltenberga podpisanie paktu obronnego"
NEW_SENTENCE = "Zdaniem Stoltenberga zawarcie paktu obronnego"
FOLD_SENTENCE = "Delegacja odwiedziła Łódź, gdzie zagrano na gęślą. "
PLAIN_SENTENCE = "Rozmowy przeniesiono do Lodz. "
FORMULA_TITLE = "=HYPERLINK(\"http://example.invalid\") [bold]Trzech[/bold] autorów o szczycie"


@dataclass
class Built:
    url: str
    backend: str
    base_url: str
    site: ReplicaSite
    crawls: list[str] = field(default_factory=list)


def _crawl(base_url: str, db_url: str) -> str:
    cmd = [sys.executable, "-m", "newsmon", "crawl", "--base-url", base_url, "--db", db_url,
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "--recheck", "all"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _prepend_to_first_paragraph(site: ReplicaSite, article_id: str, sentence: str) -> None:
    block = next(b for b in site.article(article_id).blocks if b.kind == "p")
    start = block.html[:30]
    site.replace_text(article_id, start, sentence + start)


def _admin_dsn() -> str:
    return make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def built(request, tmp_path_factory):
    """The crawled archive, one per backend (read-only use: built once for all modules)."""
    backend = request.param
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('query') / 'archive.db'}"
    else:
        try:
            with psycopg.connect(_admin_dsn(), connect_timeout=3, autocommit=True) as conn:
                pg_name = f"newsmon_query_{uuid.uuid4().hex[:12]}"
                conn.execute(f'CREATE DATABASE "{pg_name}"')
        except psycopg.Error as exc:
            pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
        url = make_url(PG_ADMIN_URL).set(database=pg_name).render_as_string(
            hide_password=False)
    try:
        site = ReplicaSite.default()
        _prepend_to_first_paragraph(site, FOLDING, FOLD_SENTENCE)
        _prepend_to_first_paragraph(site, PLAIN, PLAIN_SENTENCE)
        site.edit_title(FORMULA, FORMULA_TITLE)
        with ReplicaServer(site) as server:
            built = Built(url=url, backend=backend, base_url=server.base_url, site=site)
            built.crawls.append(_crawl(server.base_url, url))
            site.edit_title(SEED, NEW_TITLE)
            site.replace_text(SEED, OLD_SENTENCE, NEW_SENTENCE)
            site.set_paywall_percent(PAYWALL, 55)
            built.crawls.append(_crawl(server.base_url, url))
            yield built
    finally:
        if pg_name:
            with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def archive(built):
    from storage import Archive

    arch = Archive.open(built.url)
    try:
        yield arch
    finally:
        arch.close()
