"""One test per fault mode: the run completes, records what happened, and the archive loses
nothing and invents nothing."""

from __future__ import annotations

import re

import pytest

from storage import Archive
from storage.query import list_fetch_events
from tests.crawl.helpers import newsmon
from tests.reliability.scenarios import SCENARIOS, TARGET_CASE, run_scenario

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses


def _suspect_events(db_url):
    with Archive.open(db_url) as archive:
        return [e for e in list_fetch_events(archive, limit=1000) if e["outcome"] == "suspect"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_fault(server, baseline, tmp_path, scenario):
    outcome = run_scenario(server, baseline, tmp_path, scenario)
    for result in outcome.results:
        assert result.returncode == 0, result.stderr[-3000:]
    assert outcome.completed == len(outcome.results)
    assert outcome.versions_lost == 0
    assert outcome.bogus_versions == 0
    for kind in scenario.expect_kinds:
        assert outcome.errors_by_kind.get(kind, 0) >= 1, outcome.errors_by_kind
    if scenario.expect_suspect:
        suspects = _suspect_events(outcome.db_url)
        assert suspects and sum(r["suspect"] for r in outcome.runs) == len(suspects)
        # The raw page is kept for inspection.
        with Archive.open(outcome.db_url) as archive:
            assert all(archive.get_raw(e["raw_page_sha"]) for e in suspects)
    with Archive.open(outcome.db_url) as archive:
        assert archive.check() == []
    _specific_checks(scenario.name, outcome, server)


def _specific_checks(name, outcome, server):
    target = server.site.case(TARGET_CASE).article_id
    hits = [r for r in outcome.requests if f"art{target}" in r.path]
    if name.startswith("500 burst"):
        assert outcome.runs[0]["retries"] >= 2 and outcome.runs[0]["errors"] == 0
    elif name.startswith("429"):
        assert len(hits) == 3
        assert hits[-1].time - hits[0].time >= 2.0  # waited Retry-After twice
        assert outcome.runs[0]["errors"] == 0
    elif name.startswith("robots.txt answered late"):
        fetched = [r.path for r in outcome.requests if "/dyplomacja/art" in r.path]
        assert fetched == []
        assert outcome.runs[0]["robots_skipped"] >= len(server.site.live_articles())
    elif name.startswith("robots"):
        assert hits == [] and outcome.runs[0]["robots_skipped"] >= 2
    elif name.startswith("redirect to another host"):
        assert len(hits) == 1  # the redirect itself; nothing follows it
    elif name.startswith("removed"):
        first, second = outcome.runs
        assert first["gone"] == 1 and second["gone"] == 0
        with Archive.open(outcome.db_url) as archive:
            assert archive.known_article("rp", target).status == "live"
    elif name.startswith("listing links one article"):
        newest = server.site.live_articles()[0].article_id
        assert len([r for r in outcome.requests if f"art{newest}" in r.path]) == 1
        assert outcome.runs[0]["errors"] == 0
    elif name.startswith("redesign"):
        run = outcome.runs[0]
        assert run["new_versions"] == 0 and run["degraded"]
        assert run["coverage"]["body"] < 0.5
        health = newsmon("health", "--db", outcome.db_url)
        assert health.returncode == 1, health.stdout
        assert "DEGRADED" in health.stdout
    elif name.startswith(("ISO-8859-2", "Windows-1250")):
        # Decoded with the encoding the bytes really use: the same text, so unchanged.
        run = outcome.runs[0]
        assert run["new_versions"] == 0 and run["suspect"] == 0 and run["errors"] == 0
        assert run["unchanged"] == run["pages_fetched"]


def test_runs_lists_suspect_fetches(server, baseline, tmp_path):
    scenario = next(s for s in SCENARIOS if s.name.startswith("consent"))
    outcome = run_scenario(server, baseline, tmp_path, scenario)
    listing = newsmon("runs", "--db", outcome.db_url, "--suspects")
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"not an article page", listing.stdout)
