"""The repository API on a real database, SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from storage_records import make_record

from storage import Archive, ArchiveError
from storage.models import ArticleUrl, ArticleVersion, CrawlLease, FetchEvent, RawPage
from storage.query import get_versions, list_fetch_events, list_runs

URL = make_record()["url"]
RAW = b"<html><body><h1>Rozmowy w Genewie</h1></body></html>"


def count(archive: Archive, model) -> int:
    with archive._reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def fetch(archive, run, record=None, raw=RAW, **kwargs):
    record = record or make_record()
    aid, url = record["article_id"], record["url"]
    return archive.record_fetch(run, "rp", aid, url, record, raw, **kwargs)


@pytest.fixture
def run(archive):
    return archive.start_run("rp", base_url="https://www.rp.pl", trigger="manual", options={"a": 1})


def test_first_record_is_version_one(archive, run):
    out = fetch(archive, run, etag='"abc"', last_modified="Fri, 27 Nov 2026 10:00:00 GMT")
    assert (out.kind, out.version, out.changed_fields) == ("new_article", 1, ["*"])

    state = archive.known_article("rp", "100")
    assert state.current_version == 1 and state.status == "live" and state.url == URL
    assert state.etag == '"abc"' and state.last_modified.startswith("Fri")
    assert state.published_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert state.last_checked.tzinfo is not None and state.first_seen.tzinfo is not None

    (v1,) = get_versions(archive, "100")
    assert v1["title"] == "Rozmowy w Genewie" and v1["authors"] == ["Jan Kowalski"]
    assert v1["updated_at"] == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    assert v1["image"]["credit"] == "PAP" and v1["related"][0]["title"] == "Poprzednia runda"
    assert archive.get_raw(v1["raw_page_sha"]) == RAW


def test_same_record_again_is_unchanged(archive, run):
    fetch(archive, run)
    first_check = archive.known_article("rp", "100").last_checked
    later = datetime.now(UTC) + timedelta(minutes=5)
    out = fetch(archive, run, raw=RAW + b"<!-- ad rotation -->", fetched_at=later)
    assert (out.kind, out.version, out.changed_fields) == ("unchanged", 1, [])
    assert len(get_versions(archive, "100")) == 1
    state = archive.known_article("rp", "100")
    assert state.last_checked == later > first_check
    # Unchanged pages are not archived again.
    assert count(archive, RawPage) == 1


def test_furniture_only_difference_is_not_a_version(archive, run):
    fetch(archive, run)
    furniture = make_record(
        word_count=31,
        sources={"title": "jsonld", "body": "visible"},
        parser_version="2",
        url=URL + "?utm_source=rss",
        body=make_record()["body"].replace("\n\n", "\n \n  ") + "  ",
        title="  Rozmowy\u00a0w Genewie ",
        published_at="2026-11-27T09:00:00Z",  # same instant, other spelling
    )
    assert fetch(archive, run, furniture).kind == "unchanged"
    assert len(get_versions(archive, "100")) == 1


def test_edited_title_is_version_two(archive, run):
    fetch(archive, run)
    out = fetch(archive, run, make_record(title="Rozmowy w Genewie zakończone"), raw=RAW + b"2")
    assert (out.kind, out.version, out.changed_fields) == ("new_version", 2, ["title"])
    versions = get_versions(archive, "100")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["changed_fields"] == ["title"]
    assert archive.known_article("rp", "100").current_version == 2
    assert archive.check() == []


def test_changed_slug_is_the_same_article(archive, run):
    fetch(archive, run)
    new_url = "https://www.rp.pl/dyplomacja/art100-rozmowy-w-genewie-zakonczone"
    edited = make_record(title="Rozmowy zakończone", url=new_url, canonical_url=new_url)
    assert fetch(archive, run, edited, raw=RAW + b"2").version == 2
    assert archive.known_article("rp", "100").url == new_url
    with archive._reader() as s:
        urls = sorted(s.scalars(select(ArticleUrl.url)).all())
    assert urls == sorted([URL, new_url])


def test_preview_after_full_copy_is_not_an_edit(archive, run):
    fetch(archive, run)
    full_body = make_record()["body"]
    preview = make_record(
        body=full_body.split("\n\n")[0] + "\n\nDrugi akapit: szczegóły",
        body_complete=False,
        paywalled=True,
        paywall_percent=30,
    )
    out = fetch(archive, run, preview, raw=b"<html>preview</html>")
    assert out.kind == "unchanged" and "preview" in out.reason
    assert len(get_versions(archive, "100")) == 1


def test_full_copy_after_preview_is_a_version(archive, run):
    full_body = make_record()["body"]
    fetch(archive, run, make_record(body=full_body.split("\n\n")[0], body_complete=False))
    out = fetch(archive, run, make_record(), raw=RAW + b"full")
    assert out.kind == "new_version"
    assert {"body", "body_complete"} <= set(out.changed_fields)


def test_lost_title_is_a_parse_failure_with_raw_kept(archive, run):
    fetch(archive, run)
    broken = b"<html>new layout</html>"
    out = fetch(archive, run, make_record(title=None), raw=broken)
    assert out.kind == "parse_failure" and out.version is None and "title" in out.reason
    assert len(get_versions(archive, "100")) == 1
    event = list_fetch_events(archive, run)[0]
    assert event["outcome"] == "parse_failure"
    assert archive.get_raw(event["raw_page_sha"]) == broken
    assert event["record"]["title"] is None  # the parse is kept for inspection


def test_record_parse_failure_keeps_raw(archive, run):
    archive.record_parse_failure(run, "rp", "555", URL, b"<html>garbage</html>", "no article")
    event = list_fetch_events(archive, run)[0]
    assert event["outcome"] == "parse_failure" and event["message"] == "no article"
    assert archive.get_raw(event["raw_page_sha"]) == b"<html>garbage</html>"
    assert archive.known_article("rp", "555") is None
    run_row = archive.get_run(run)
    assert run_row["parse_failures"] == 1 and run_row["pages_fetched"] == 1


def test_body_shrink_is_suspect(archive, run):
    fetch(archive, run, etag='"v1"')
    shrunk = make_record(body="Pierwszy akapit tekstu o rozmowach.")
    out = fetch(archive, run, shrunk, raw=b"<html>shrunk</html>", etag='"v2"')
    assert out.kind == "suspect" and "shrank" in out.reason and out.version is None
    assert len(get_versions(archive, "100")) == 1
    event = list_fetch_events(archive, run)[0]
    assert archive.get_raw(event["raw_page_sha"]) == b"<html>shrunk</html>"
    # Validators stay those of the trusted version, so the page is fetched in full again.
    assert archive.known_article("rp", "100").etag == '"v1"'
    # A configurable limit: allowing 90% shrink makes it an ordinary edit.
    assert fetch(archive, run, shrunk, raw=b"x", max_body_shrink=0.9).kind == "new_version"


def test_body_shrink_with_paywall_change_is_a_version(archive, run):
    fetch(archive, run)
    walled = make_record(body="Tylko pierwsze zdanie innego tekstu.", paywalled=True)
    assert fetch(archive, run, walled, raw=b"w").kind == "new_version"


def test_selector_to_fallback_with_other_value_is_suspect(archive, run):
    fetch(archive, run)
    drifted = make_record(
        title="Rzeczpospolita - Dyplomacja",
        sources={"title": "fallback", "body": "selector"},
    )
    out = fetch(archive, run, drifted, raw=b"<html>drift</html>")
    assert out.kind == "suspect" and "title" in out.reason
    assert len(get_versions(archive, "100")) == 1
    # Same value from the fallback is no change at all.
    same = make_record(sources={"title": "fallback", "body": "selector"})
    assert fetch(archive, run, same).kind == "unchanged"


def test_gone_keeps_history_and_restoration_revives(archive, run):
    fetch(archive, run, etag='"v1"')
    archive.record_gone(run, "rp", "100", URL, 404)
    state = archive.known_article("rp", "100")
    assert state.status == "gone" and state.etag is None
    assert len(get_versions(archive, "100")) == 1
    archive.record_gone(run, "rp", "100", URL, 301)
    assert archive.known_article("rp", "100").status == "redirected"
    assert fetch(archive, run).kind == "unchanged"
    assert archive.known_article("rp", "100").status == "live"
    assert archive.get_run(run)["gone"] == 2


def test_not_modified(archive, run):
    fetch(archive, run)
    later = datetime.now(UTC) + timedelta(hours=1)
    archive.record_not_modified(run, "rp", "100", URL, fetched_at=later)
    assert archive.known_article("rp", "100").last_checked == later
    assert list_fetch_events(archive, run)[0]["outcome"] == "not_modified"
    assert archive.get_run(run)["not_modified"] == 1


def test_run_counters_and_lifecycle(archive, run):
    fetch(archive, run)  # new article
    fetch(archive, run)  # unchanged
    fetch(archive, run, make_record(title="Nowy tytuł"), raw=b"2")  # new version
    other = make_record(article_id="200", url=URL.replace("art100", "art200"), canonical_url=None)
    fetch(archive, run, other, raw=b"3")  # new article
    fetch(archive, run, make_record(body=None), raw=b"4")  # parse failure
    fetch(archive, run, make_record(title="Nowy tytuł", body="krótko"), raw=b"5")  # suspect
    archive.record_not_modified(run, "rp", "200", other["url"])
    archive.record_gone(run, "rp", "200", other["url"], 410)
    archive.record_error(run, URL, "timeout", "no answer in 30 s", site="rp", article_id="100")
    archive.record_error(run, URL, "http_503", "Service Unavailable", status=503, raw=b"busy")
    archive.bump_run(run, retries=2, robots_skipped=1, errors_by_kind={"timeout": 1})

    r = archive.get_run(run)
    assert r["site"] == "rp" and r["status"] == "running" and r["options"] == {"a": 1}
    expected = dict(
        pages_fetched=6,
        new_articles=2,
        new_versions=3,
        unchanged=1,
        parse_failures=1,
        suspect=1,
        not_modified=1,
        gone=1,
        errors=2,
        retries=2,
        robots_skipped=1,
    )
    assert {k: r[k] for k in expected} == expected
    assert r["errors_by_kind"] == {"timeout": 2, "http_503": 1}

    archive.finish_run(run, "completed", note="ok", coverage={"title": 1.0}, degraded=True)
    r = archive.get_run(run)
    assert r["status"] == "completed" and r["degraded"] is True and r["coverage"] == {"title": 1.0}
    assert r["finished_at"] >= r["started_at"]

    second = archive.start_run("rp", trigger="scheduled")
    assert [x["id"] for x in list_runs(archive)] == [second, run]
    assert archive.get_run(12345) is None
    with pytest.raises(ArchiveError):
        archive.finish_run(run, "done")
    with pytest.raises(ArchiveError):
        archive.bump_run(run, bogus=1)


def test_identical_raw_pages_are_stored_once(archive, run):
    fetch(archive, run, raw=b"same bytes")
    other = make_record(article_id="200", url=URL.replace("art100", "art200"), canonical_url=None)
    fetch(archive, run, other, raw=b"same bytes")
    assert count(archive, RawPage) == 1
    with archive._reader() as s:
        shas = set(s.scalars(select(ArticleVersion.raw_page_sha)).all())
        page = s.get(RawPage, shas.pop())
    assert page.compression == "zstd" and page.size == len(b"same bytes")


def test_fetch_events_one_per_fetch(archive, run):
    fetch(archive, run)
    fetch(archive, run)
    archive.record_not_modified(run, "rp", "100", URL)
    assert count(archive, FetchEvent) == 3
    outcomes = [e["outcome"] for e in list_fetch_events(archive, run)]
    assert outcomes == ["not_modified", "unchanged", "new_article"]


def test_due_articles(archive, run):
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    policy = {
        "horizon_days": 90,
        "tiers": [
            {"max_age_hours": 6, "interval_minutes": 0},
            {"max_age_hours": 48, "interval_minutes": 60},
            {"max_age_hours": 336, "interval_minutes": 1440},
        ],
        "recent_change_hours": 24,
        "recent_change_interval_minutes": 60,
    }

    def add(aid, published, checked):
        rec = make_record(
            article_id=aid,
            url=URL.replace("art100", f"art{aid}"),
            canonical_url=None,
            published_at=published.isoformat(),
        )
        fetch(archive, run, rec, raw=aid.encode(), fetched_at=checked)

    add("1", now - timedelta(hours=2), now - timedelta(minutes=1))  # fresh: every run
    add("2", now - timedelta(hours=30), now - timedelta(minutes=30))  # hourly, not yet
    add("3", now - timedelta(hours=30), now - timedelta(minutes=90))  # hourly, due
    add("4", now - timedelta(days=100), now - timedelta(days=50))  # past the horizon
    add("5", now - timedelta(days=5), now - timedelta(hours=5))  # daily, not yet
    add("6", now - timedelta(days=5), now - timedelta(days=2))  # daily, due, but gone
    archive.record_gone(run, "rp", "6", "u", 404, fetched_at=now - timedelta(hours=2))

    due = [a.article_id for a in archive.due_articles("rp", now, policy)]
    assert due == ["3", "1"]  # least recently checked first
    # Gone articles come back, but not more often than daily by default.
    later = now + timedelta(hours=20)  # 22 h after the 404

    def due_ids(when):
        return [a.article_id for a in archive.due_articles("rp", when, policy)]

    assert "6" not in due_ids(later)
    assert "6" in due_ids(now + timedelta(days=1))
    assert len(archive.due_articles("rp", now, policy, mode="all")) == 6
    assert archive.due_articles("rp", now, policy, mode="none") == []
    assert archive.due_articles("other-site", now, policy) == []


def test_leases(archive):
    assert archive.acquire_lease("crawl", holder="a", ttl=60)
    assert not archive.acquire_lease("crawl", holder="b", ttl=60)
    assert archive.acquire_lease("crawl", holder="a", ttl=60)  # re-entrant, extends
    assert archive.renew_lease("crawl", holder="a", ttl=60)
    assert not archive.renew_lease("crawl", holder="b", ttl=60)
    assert not archive.release_lease("crawl", holder="b")
    assert archive.release_lease("crawl", holder="a")
    assert archive.acquire_lease("crawl", holder="b", ttl=60)
    assert archive.lease_info("crawl")["holder"] == "b"
    # Independent names do not interfere.
    assert archive.acquire_lease("other", holder="a", ttl=60)


def test_expired_lease_is_taken_over(archive):
    assert archive.acquire_lease("crawl", holder="a", ttl=0.001)
    import time

    time.sleep(0.01)
    assert archive.acquire_lease("crawl", holder="b", ttl=60)
    assert archive.lease_info("crawl")["holder"] == "b"


def test_timestamps_are_utc_aware(archive, run):
    warsaw = datetime(2026, 7, 1, 14, 0).astimezone()  # any aware value
    fetch(archive, run, fetched_at=warsaw)
    state = archive.known_article("rp", "100")
    assert state.last_checked == warsaw and state.last_checked.tzinfo == UTC


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _lease_of_dead_process(archive, holder: str, host: str) -> None:
    """An unexpired crawl lease, as a crashed crawl on `host` leaves it."""
    with archive._writer.begin() as s:
        now = datetime.now(UTC)
        s.add(
            CrawlLease(
                name="crawl",
                holder=holder,
                pid=_dead_pid(),
                host=host,
                acquired_at=now,
                heartbeat_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )


def test_lease_of_dead_process_on_this_host_is_taken_over(archive):
    _lease_of_dead_process(archive, "crashed", archive.host)
    assert archive.acquire_lease("crawl", holder="fresh", ttl=60)
    info = archive.lease_info("crawl")
    assert info["holder"] == "fresh" and info["pid"] == os.getpid()


def test_live_lease_on_another_host_is_respected(archive):
    _lease_of_dead_process(archive, "elsewhere", "other-machine")
    # The pid means nothing here: only expiry frees a lease held on another machine.
    assert not archive.acquire_lease("crawl", holder="fresh", ttl=60)


def test_runs_of_dead_processes_are_marked_interrupted(archive):
    dead = archive.start_run("rp", trigger="scheduled", pid=_dead_pid())
    alive = archive.start_run("rp", trigger="manual")  # this process
    remote = archive.start_run("rp", trigger="manual", pid=1, host="other-machine")
    assert archive.mark_interrupted_runs() == [dead]
    assert archive.get_run(dead)["status"] == "interrupted"
    assert archive.get_run(dead)["finished_at"] is not None
    assert archive.get_run(alive)["status"] == "running"
    assert archive.get_run(remote)["status"] == "running"
    # Remote runs are closed only by age.
    assert archive.mark_interrupted_runs(stale_after=timedelta(0)) == [alive, remote]


def test_run_for_process_and_last_run_started(archive):
    assert archive.last_run_started() is None
    first = archive.start_run("rp", trigger="scheduled", pid=4242)
    second = archive.start_run("rp", trigger="manual", pid=4242)
    assert archive.run_for_process(4242)["id"] == second
    assert archive.run_for_process(4343) is None
    cutoff = datetime.now(UTC) + timedelta(seconds=5)
    assert archive.run_for_process(4242, started_after=cutoff) is None
    last = archive.last_run_started(trigger="scheduled")
    assert last == archive.get_run(first)["started_at"] and last.tzinfo is not None
    assert archive.last_run_started(site="rp") == archive.get_run(second)["started_at"]


def test_crawler_noticed_trouble_makes_a_suspect(archive, run):
    out = fetch(archive, run, suspect_reason="undecodable bytes", raw=b"\xff\xfe")
    assert out.kind == "suspect" and out.reason == "undecodable bytes"
    assert archive.known_article("rp", "100").current_version == 0
    assert archive.check() == []
    assert fetch(archive, run).kind == "new_article"


@pytest.mark.parametrize("trouble", [None, "undecodable bytes"])
def test_the_new_hint_changes_no_outcome(archive, run, trouble):
    # `new` (the crawl believes the article is unknown) inserts the row with its final
    # values at once; the outcome and the rows must be those of the look-up path, and a
    # wrong guess (the article exists) must still be read and decided against its version.
    at = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    states, kinds = [], []
    for aid, new in (("200", False), ("201", True)):
        record = make_record(article_id=aid, url=URL.replace("art100", f"art{aid}"))
        for fetched_at, title in ((at, None), (at + timedelta(hours=1), "Nowy tytuł")):
            if title:
                record = dict(record, title=title)
            out = archive.record_fetch(run, "rp", aid, record["url"], record, aid.encode(),
                                       etag='"e"', last_modified="Fri, 27 Nov 2026",
                                       fetched_at=fetched_at, suspect_reason=trouble, new=new)
            kinds.append((out.kind, out.version, out.changed_fields))
        state = archive.known_article("rp", aid)
        states.append({k: v for k, v in vars(state).items() if k not in ("article_id", "url")})
    assert states[0] == states[1]
    assert kinds[:2] == kinds[2:]
    expected = ("suspect", None) if trouble else ("new_article", 1)
    assert kinds[0][:2] == expected and kinds[1][0] == ("suspect" if trouble else "new_version")
    assert archive.check() == []


# The parser's output for one replica article served in full (metered paywall) and as a
# preview only, copied from tests/fixtures/pages/replica-meter-2025-jeszcze* at commit 0712529
# (those folders now keep only pinned fields).
DATA = Path(__file__).resolve().parent / "data"


def _parser_output(case: str) -> dict:
    return json.loads((DATA / f"{case}.json").read_text(encoding="utf-8"))


def test_real_preview_only_page_after_the_full_page(archive, run):
    # The preview also lacks the related cards.
    full = _parser_output("replica-meter-2025-jeszcze")
    preview = _parser_output("replica-meter-2025-jeszcze-preview-only")
    aid = full["article_id"]
    assert archive.record_fetch(run, "rp", aid, full["url"], full, b"full").version == 1
    out = archive.record_fetch(run, "rp", aid, preview["url"], preview, b"preview")
    assert out.kind == "unchanged"
    # And the other way round: the full copy after a preview is a new version.
    other = archive.start_run("rp")
    archive.record_fetch(other, "rp", "x" + aid, preview["url"], preview, b"preview")
    out = archive.record_fetch(other, "rp", "x" + aid, full["url"], full, b"full")
    assert out.kind == "new_version"
    assert {"body", "body_complete", "related"} <= set(out.changed_fields)


def test_suspect_counts_as_a_check_but_keeps_validators(archive, run):
    fetch(archive, run, etag='"v1"', fetched_at=datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    later = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    fetch(archive, run, make_record(body="krótko"), etag='"v2"', fetched_at=later)
    state = archive.known_article("rp", "100")
    assert state.last_checked == later and state.etag == '"v1"'


def test_accept_suspect(archive, run):
    fetch(archive, run)
    drifted = make_record(title="Nowy układ strony", sources={"title": "fallback"})
    suspect = fetch(archive, run, drifted, raw=b"<html>drift</html>")
    assert suspect.kind == "suspect"

    out = archive.accept_suspect(suspect.event_id, note="checked by hand")
    assert (out.kind, out.version, out.changed_fields) == ("new_version", 2, ["title"])
    v2 = get_versions(archive, "100")[1]
    assert v2["title"] == "Nowy układ strony"
    assert archive.get_raw(v2["raw_page_sha"]) == b"<html>drift</html>"
    event = next(e for e in list_fetch_events(archive, run) if e["id"] == suspect.event_id)
    assert event["version"] == 2 and "checked by hand" in event["message"]
    assert archive.check() == []
    with pytest.raises(ArchiveError, match="already accepted"):
        archive.accept_suspect(suspect.event_id)
    with pytest.raises(ArchiveError, match="not a suspect"):
        archive.accept_suspect(list_fetch_events(archive, run)[-1]["id"])  # the first fetch


def test_stale_suspect_cannot_overwrite_a_newer_version(archive, run):
    t0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    fetch(archive, run, fetched_at=t0)
    suspect = fetch(archive, run, make_record(body="krótko"), fetched_at=t0 + timedelta(hours=1))
    fetch(archive, run, make_record(title="Później"), raw=b"2", fetched_at=t0 + timedelta(hours=2))
    with pytest.raises(ArchiveError, match="fetched after"):
        archive.accept_suspect(suspect.event_id)


def test_run_of_a_reused_pid_is_interrupted(archive):
    # A run recorded long ago under the pid this test process has now: the pid was reused.
    old = datetime(2020, 1, 1, tzinfo=UTC)
    run = archive.start_run("rp", pid=os.getpid(), started_at=old)
    current = archive.start_run("rp")
    assert archive.mark_interrupted_runs() == [run]
    assert archive.get_run(current)["status"] == "running"


def test_threads_sharing_one_archive(archive):
    # One Archive, several threads: the pipeline's writer, the lease renewal, the scheduler.
    run = archive.start_run("rp")

    def work(n: int) -> list[str]:
        kinds = []
        for i in range(10):
            aid = str(500 + i)
            url = f"https://www.rp.pl/dyplomacja/art{aid}-x"
            rec = make_record(article_id=aid, url=url, canonical_url=url)
            kinds.append(archive.record_fetch(run, "rp", aid, url, rec, aid.encode()).kind)
        return kinds

    with ThreadPoolExecutor(max_workers=4) as pool:
        kinds = [k for result in pool.map(work, range(4)) for k in result]
    assert kinds.count("new_article") == 10 and kinds.count("unchanged") == 30
    assert archive.get_run(run)["pages_fetched"] == 40
    assert archive.check() == []


def test_horizon_counts_from_first_seen_without_a_publication_date(archive, run):
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    policy = {"horizon_days": 30, "tiers": [{"max_age_hours": 24, "interval_minutes": 60}]}
    for aid, seen in (("old", now - timedelta(days=40)), ("young", now - timedelta(days=20))):
        url = URL.replace("art100", f"art{aid}")
        rec = make_record(article_id=aid, url=url, canonical_url=None, published_at=None)
        fetch(archive, run, rec, raw=aid.encode(), fetched_at=seen)
    assert [a.article_id for a in archive.due_articles("rp", now, policy)] == ["young"]
    assert len(archive.due_articles("rp", now, policy, mode="all")) == 2


def test_a_real_integrity_error_is_not_retried(archive, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    import storage.archive as archive_module

    sleeps = []
    monkeypatch.setattr(archive_module.time, "sleep", sleeps.append)
    with pytest.raises(IntegrityError):
        fetch(archive, 987654)  # no such run: a foreign-key violation, not a race
    assert sleeps == []
    assert archive.known_article("rp", "100") is None  # the whole transaction rolled back


def test_opening_while_another_connection_writes_a_new_file(tmp_path):
    """A new file is still in rollback-journal mode: switching it to WAL while another
    connection holds its write lock fails at once, without the busy timeout (SQLite's deadlock
    rule). Opening must wait for the writer instead of failing: three processes starting on a
    new archive at once met this in CI."""
    import sqlite3
    import threading

    path = tmp_path / "newsmon.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE placeholder (x)")
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, writer.execute, ("COMMIT",))
    release.start()
    try:
        with Archive.open(f"sqlite:///{path}") as archive:
            assert archive.check() == []
    finally:
        release.join()
        writer.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
