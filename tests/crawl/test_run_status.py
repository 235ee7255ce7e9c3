"""crawler/run_status.py: a run's status, coverage and degraded flag from its counters."""

from __future__ import annotations

import pytest

from crawler.run_status import (
    RunCounters,
    Thresholds,
    covered_fields,
    decide,
    parse_min_coverage,
    parse_share,
    stopped_run,
)

LENIENT = Thresholds(max_error_ratio=0.5, min_coverage={"title": 0.9})


def counters(**kw) -> RunCounters:
    base = {"articles_attempted": 10, "article_pages": 10, "parsed_pages": 10,
            "covered": {"title": 10, "body": 10, "published_at": 10, "authors": 10}}
    return RunCounters(**{**base, **kw})


def test_a_clean_run_completes_with_full_coverage():
    outcome = decide(counters(), "finished", LENIENT)
    assert (outcome.status, outcome.note, outcome.degraded) == ("completed", None, False)
    assert outcome.coverage == {"title": 1.0, "body": 1.0, "published_at": 1.0, "authors": 1.0}


@pytest.mark.parametrize(("kw", "reason", "status", "note"), [
    ({}, "skipped", "skipped", "another crawl was running"),
    ({"write_failures": 1}, "shutdown", "interrupted", "stopped by a signal"),
    ({"write_failures": 2}, "finished", "failed", "2 archive writes failed"),
    ({"articles_attempted": 0, "article_pages": 0, "parsed_pages": 0, "source_failures": 4},
     "finished", "failed", "no article could be reached"),
    ({"article_failures": 6}, "finished", "failed", "6 of 10 article fetches failed"),
    ({"article_failures": 5}, "finished", "completed", None),  # the ratio is not exceeded
    ({"parsed_pages": 0}, "finished", "failed", "none could be parsed"),
    ({}, "start_error", "failed", "spider closed: start_error"),
    ({}, "closespider_pagecount", "completed", None),
])
def test_status_and_its_reason(kw, reason, status, note):
    outcome = decide(counters(**kw), reason, LENIENT)
    assert outcome.status == status
    assert (outcome.note is None) if note is None else (note in outcome.note)


def test_degraded_when_a_field_falls_below_its_minimum_from_the_sites_own_markup():
    fallback_body = {"title": "T", "body": "B", "sources": {"title": "selector",
                                                            "body": "fallback"}}
    assert covered_fields(fallback_body) == ["title"]
    run = counters(covered={"title": 10, "body": 3})
    outcome = decide(run, "finished", Thresholds(0.5, {"body": 0.5}))
    assert outcome.degraded and outcome.coverage["body"] == 0.3
    assert not decide(run, "finished", Thresholds(0.5, {"title": 1.0})).degraded
    # Nothing parsed: nothing measured, so nothing degraded.
    empty = RunCounters(source_failures=1)
    assert not decide(empty, "finished", Thresholds(0.5, {"title": 2})).degraded


def test_runs_the_scheduler_stopped():
    assert stopped_run(timed_out=True, run_timeout=60, returncode=-2, opened=True) == (
        "timed_out", "stopped after 60s")
    assert stopped_run(timed_out=True, run_timeout=60, returncode=-9, opened=False) == (
        "timed_out", "stopped after 60s, before it opened its run")
    assert stopped_run(timed_out=False, run_timeout=60, returncode=2, opened=False) == (
        "failed", "crawl process exited 2 before starting")


def test_thresholds_from_toml_values_or_command_line_text():
    assert parse_share("X", "0.25") == 0.25 and parse_share("X", 1) == 1.0
    assert parse_min_coverage("C", '{"title": 1.5}') == {"title": 1.5}
    assert parse_min_coverage("C", {"body": 0.9}) == {"body": 0.9}
    for bad in ("nan", "-0.1", "1.1", "", None):
        with pytest.raises(ValueError, match="bad setting X"):
            parse_share("X", bad)
    for bad in ("[1]", '{"title": "x"}', "{", '{"lead": 0.5}'):
        with pytest.raises(ValueError, match="bad setting C"):
            parse_min_coverage("C", bad)
