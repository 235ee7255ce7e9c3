"""Several processes writing one archive at once: no "database is locked", no duplicate
versions. Workers are real processes (spawn), each opening the archive itself — also racing to
create the schema of a fresh database."""

from __future__ import annotations

import multiprocessing
import traceback

import pytest
from storage_records import make_record

from storage import Archive
from storage.query import get_versions

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

WORKERS = 3
ARTICLES = 25


def _records(aid: str) -> tuple[dict, dict]:
    url = f"https://www.rp.pl/dyplomacja/art{aid}-x"
    first = make_record(article_id=aid, url=url, canonical_url=url)
    edited = make_record(article_id=aid, url=url, canonical_url=url, title=f"Zmiana {aid}")
    return first, edited


def _worker(url: str, barrier, results) -> None:
    try:
        barrier.wait(timeout=60)
        with Archive.open(url) as archive:
            run = archive.start_run("rp", trigger="manual")
            # Phase 1: every worker stores the same first copy of every article; phase 2 (after
            # all have finished phase 1): the same edited copy. Exactly one version per state
            # may result, whoever wins each race.
            for phase in (0, 1):
                barrier.wait(timeout=120)
                for i in range(ARTICLES):
                    aid = str(1000 + i)
                    record = _records(aid)[phase]
                    raw = f"{phase}-{aid}".encode()
                    archive.record_fetch(run, "rp", aid, record["url"], record, raw)
                    archive.record_not_modified(run, "rp", aid, record["url"])
                    if archive.acquire_lease("crawl", holder=f"w{run}", ttl=60):
                        archive.release_lease("crawl", holder=f"w{run}")
            archive.finish_run(run, "completed")
            results.put(("ok", run, None))
    except BaseException:
        results.put(("error", None, traceback.format_exc()))


def test_processes_recording_the_same_articles(db_url):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db_url, barrier, results)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=170) for _ in procs]
    for p in procs:
        p.join(timeout=30)

    errors = [detail for status, _, detail in outcomes if status == "error"]
    assert not errors, "\n".join(errors)

    with Archive.open(db_url) as archive:
        for i in range(ARTICLES):
            aid = str(1000 + i)
            versions = get_versions(archive, aid)
            assert [v["version"] for v in versions] == [1, 2]
            assert [v["title"] for v in versions] == [r["title"] for r in _records(aid)]
            assert versions[1]["changed_fields"] == ["title"]
        assert archive.check() == []

        runs = [archive.get_run(run) for _, run, _ in outcomes]
        total = {k: sum(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], int)}
        assert total["new_articles"] == ARTICLES
        assert total["new_versions"] == 2 * ARTICLES  # each version counted once
        assert total["unchanged"] == (WORKERS - 1) * 2 * ARTICLES
        assert total["pages_fetched"] == WORKERS * 2 * ARTICLES
        assert total["not_modified"] == WORKERS * 2 * ARTICLES
        assert all(r["status"] == "completed" for r in runs)
