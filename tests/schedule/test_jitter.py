"""The jitter cap: a pure function of the configured jitter and the schedule's shortest gap."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from newsmon.scheduler import JITTER_SHARE, ScheduleOptions, effective_jitter, shortest_gap

WARSAW = ZoneInfo("Europe/Warsaw")
# A Friday in spring, clear of either DST change for the next months.
START = datetime(2026, 4, 10, 8, 0, tzinfo=WARSAW)


def cron(expr: str):
    return ScheduleOptions(db_url="sqlite://", cron=expr).trigger()


def every(seconds: float):
    return ScheduleOptions(db_url="sqlite://", every=seconds).trigger()


def test_interval_gap_is_the_interval():
    assert shortest_gap(every(3), START) == 3
    assert shortest_gap(every(1800), START) == 1800


@pytest.mark.parametrize(("expr", "gap"), [
    ("*/30 * * * *", 30 * 60),
    ("* * * * *", 60),
    # Unequal gaps: 09:00 -> 12:00 is 3 h, 12:00 -> 09:00 the next day 21 h.
    ("0 9,12 * * *", 3 * 3600),
    # The short gap is across midnight: 20:00 -> 00:00.
    ("0 */5 * * *", 4 * 3600),
    # Weekdays only: the shortest gap is a day, not the weekend's three.
    ("0 9 * * 1-5", 24 * 3600),
    # Only visible across days: Monday 23:00 -> Tuesday 00:00.
    ("0 0,23 * * 1,2", 3600),
    # Monthly: February is the shortest month in the coming year.
    ("0 0 1 * *", 28 * 24 * 3600),
])
def test_cron_gap_is_the_shortest_between_consecutive_fire_times(expr, gap):
    assert shortest_gap(cron(expr), START) == gap


def test_cron_gap_is_elapsed_time_across_dst():
    # On 2026-10-25 Warsaw's clocks go back: 02:30 happens twice, an hour apart, and
    # APScheduler fires at both. Wall-clock subtraction would call that gap zero.
    start = datetime(2026, 10, 20, tzinfo=WARSAW)
    assert shortest_gap(cron("30 2 * * *"), start) == 3600
    # A daily 04:00 across the night clocks go forward (2026-03-29) is 23 h apart.
    spring = datetime(2026, 3, 27, tzinfo=WARSAW)
    assert shortest_gap(cron("0 4 * * *"), spring) == 23 * 3600


def test_a_cron_firing_once_in_the_window_has_no_gap():
    # 29 February: no fire time in the year after START.
    assert shortest_gap(cron("0 0 29 2 *"), START) is None


def test_jitter_is_capped_at_a_share_of_the_interval():
    # The case: the shipped jitter of 60 s on a 3 s interval.
    assert effective_jitter(60, every(3), START) == pytest.approx(JITTER_SHARE * 3)
    assert effective_jitter(60, every(3), START) < 3
    # A jitter already below the cap is applied as configured.
    assert effective_jitter(60, every(1800), START) == 60


def test_jitter_is_capped_at_a_share_of_the_shortest_cron_gap():
    # The shipped schedule: */30 with 60 s of jitter stays 60 s.
    assert effective_jitter(60, cron("*/30 * * * *"), START) == 60
    assert effective_jitter(900, cron("*/30 * * * *"), START) == pytest.approx(JITTER_SHARE * 1800)
    # Unequal gaps: capped by the 3 h one, not the 21 h one.
    capped = effective_jitter(7200, cron("0 9,12 * * *"), START)
    assert capped == pytest.approx(JITTER_SHARE * 3 * 3600)


def test_no_jitter_and_no_gap():
    assert effective_jitter(None, every(3), START) == 0
    assert effective_jitter(0, cron("*/30 * * * *"), START) == 0
    # Nothing to cap against: the configured jitter stands.
    assert effective_jitter(60, cron("0 0 29 2 *"), START) == 60
