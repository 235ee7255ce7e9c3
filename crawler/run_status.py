"""How a crawl run ended: its status, field coverage, degraded flag and one-line summary,
from the run's counters and its thresholds. Pure (no Scrapy, no database): the run extension
decides with it from `crawler.stats`, the scheduler when it closes a run it had to stop, and
`newsmon health` reads coverage with the same field list.

The counters are Scrapy stats under `newsmon/` (STAT_* below): the spider counts what it
attempted, fetched and parsed, the pipeline what it could not write."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

# A field counts as covered only when the site's own markup or structured data gave it: after
# a redesign the generic fallbacks still find a body, and that is what health must notice.
COVERAGE_FIELDS = ("title", "body", "published_at", "authors")
SUMMARY_FIELDS = ("pages_fetched", "not_modified", "new_articles", "new_versions", "unchanged",
                  "gone", "errors", "parse_failures", "suspect")
# Close reasons of a crawl that ran to its end (a page or item limit is an end too).
FINISHED_REASONS = ("finished", "closespider_itemcount", "closespider_pagecount")
SKIPPED = "skipped"

STAT_RUN_ID = "newsmon/run_id"
STAT_STATUS = "newsmon/status"
STAT_ATTEMPTED = "newsmon/articles_attempted"
STAT_ARTICLE_FAILURES = "newsmon/article_failures"
STAT_SOURCE_FAILURES = "newsmon/source_failures"
STAT_ARTICLE_PAGES = "newsmon/article_pages"
STAT_PARSED = "newsmon/parsed_pages"
STAT_WRITE_FAILURES = "newsmon/write_failures"
STAT_COVERED = "newsmon/covered/"  # + field name
STAT_OUTCOME = "newsmon/outcome/"  # + what the archive made of an item (progress display)


@dataclass(frozen=True)
class Thresholds:
    """What makes a run failed or degraded."""

    max_error_ratio: float  # share of failed article fetches above which the run failed
    min_coverage: Mapping[str, float] = field(default_factory=dict)  # field -> lowest share


@dataclass(frozen=True)
class RunCounters:
    articles_attempted: int = 0
    article_failures: int = 0
    source_failures: int = 0  # discovery sources (listing, sitemaps, feed) that failed
    article_pages: int = 0  # article pages received (parsed or not)
    parsed_pages: int = 0
    write_failures: int = 0
    covered: Mapping[str, int] = field(default_factory=dict)  # field -> parsed pages with it

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> RunCounters:
        def count(key: str) -> int:
            return int(stats.get(key) or 0)

        return cls(
            articles_attempted=count(STAT_ATTEMPTED),
            article_failures=count(STAT_ARTICLE_FAILURES),
            source_failures=count(STAT_SOURCE_FAILURES),
            article_pages=count(STAT_ARTICLE_PAGES),
            parsed_pages=count(STAT_PARSED),
            write_failures=count(STAT_WRITE_FAILURES),
            covered={name: count(STAT_COVERED + name) for name in COVERAGE_FIELDS},
        )


@dataclass(frozen=True)
class Outcome:
    status: str
    note: str | None
    coverage: dict[str, float]
    degraded: bool


def covered_fields(record: Mapping[str, Any],
                   by_design: Collection[str] = ()) -> list[str]:
    """The coverage fields a parsed record has from the site's own markup (not a fallback,
    except for the fields in `by_design`: those the profile leaves to generic extraction)."""
    sources = record.get("sources") or {}
    return [name for name in COVERAGE_FIELDS
            if record.get(name) and (sources.get(name) != "fallback" or name in by_design)]


# The profile selector that reads each coverage field: a profile without it (a site on the
# generic parser) gets the field from generic extraction by design, not as a fallback.
FIELD_SELECTORS = {"title": "title", "body": "body", "published_at": "published",
                   "authors": "author_box"}


def generic_fields(selectors: Mapping[str, Any]) -> frozenset[str]:
    """The coverage fields a parser profile (its compiled selectors) has no selector for."""
    return frozenset(name for name, key in FIELD_SELECTORS.items() if not selectors.get(key))


def coverage(counters: RunCounters) -> dict[str, float]:
    """Share of parsed pages covering each field; empty when nothing was parsed."""
    if not counters.parsed_pages:
        return {}
    return {name: round(counters.covered.get(name, 0) / counters.parsed_pages, 4)
            for name in COVERAGE_FIELDS}


def degraded_fields(shares: Mapping[str, float], min_coverage: Mapping[str, float]) -> list[str]:
    """The fields whose coverage is below its minimum (none when nothing was measured)."""
    if not shares:
        return []
    return [name for name, least in min_coverage.items() if shares.get(name, 1.0) < least]


def decide(counters: RunCounters, reason: str, thresholds: Thresholds) -> Outcome:
    """The outcome of a run that was opened and closed by Scrapy with `reason`."""
    shares = coverage(counters)
    status, note = _status(counters, reason, thresholds)
    return Outcome(status, note, shares,
                   bool(degraded_fields(shares, thresholds.min_coverage)))


def _status(c: RunCounters, reason: str, thresholds: Thresholds) -> tuple[str, str | None]:
    if reason == SKIPPED:
        return SKIPPED, "another crawl was running"
    if reason == "shutdown":
        return "interrupted", "stopped by a signal before it finished"
    if c.write_failures:
        return "failed", f"{c.write_failures} archive writes failed"
    if c.articles_attempted == 0 and c.source_failures:
        return "failed", "no article could be reached (site down or discovery failed)"
    if c.articles_attempted and c.article_failures / c.articles_attempted > \
            thresholds.max_error_ratio:
        return "failed", f"{c.article_failures} of {c.articles_attempted} article fetches failed"
    if c.article_pages and not c.parsed_pages:
        return "failed", "pages were fetched but none could be parsed"
    if reason not in FINISHED_REASONS:
        return "failed", f"spider closed: {reason}"
    return "completed", None


def stopped_run(*, timed_out: bool, run_timeout: float, returncode: int | None,
                opened: bool) -> tuple[str, str]:
    """Status and note of a run whose crawl process the scheduler saw end badly: stopped at
    its timeout, or gone before it opened its run."""
    if timed_out:
        when = "" if opened else ", before it opened its run"
        return "timed_out", f"stopped after {run_timeout:.0f}s{when}"
    return "failed", f"crawl process exited {returncode} before starting"


def summary_line(run: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={run.get(k, 0)}" for k in SUMMARY_FIELDS)


# -- thresholds from settings (numbers from TOML, or strings from `-s NAME=VALUE`) ----------


def parse_share(name: str, value: Any, *, upper: float | None = 1.0) -> float:
    """A share (0..upper; no upper bound when None) given as a number or its text."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"bad setting {name}={value!r}: expected a number") from None
    if math.isnan(number) or number < 0 or (upper is not None and number > upper):
        bound = f"between 0 and {upper:g}" if upper is not None else "of at least 0"
        raise ValueError(f"bad setting {name}={value!r}: expected a number {bound}")
    return number


def parse_min_coverage(name: str, value: Any) -> dict[str, float]:
    """Minimum coverage per field: a table, or its JSON text (`{"title": 0.95}`). A minimum
    above 1 is allowed (it flags every run: a way to test the alarm)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError:
            raise ValueError(f"bad setting {name}={value!r}: expected a JSON object such as "
                             '{"title": 0.95}') from None
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"bad setting {name}={value!r}: expected a table of field: share")
    unknown = sorted(set(value) - set(COVERAGE_FIELDS))
    if unknown:
        raise ValueError(f"bad setting {name}: unknown field {unknown[0]!r} (fields: "
                         f"{', '.join(COVERAGE_FIELDS)})")
    return {key: parse_share(f"{name}[{key}]", share, upper=None)
            for key, share in value.items()}
