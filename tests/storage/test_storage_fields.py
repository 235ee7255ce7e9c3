"""One field list, one counter list: the archive's columns and keys derive from
storage/record.py and storage.models.RUN_COUNTERS, and the parser's record carries every field
the archive keeps (storage does not import the crawler, so the contract is checked here)."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import Integer

from crawler.parsers.record import ArticleRecord
from storage.changes import SUMMARY_FIELDS
from storage.models import RUN_COUNTERS, RUN_PAGE_COUNTERS, ArticleVersion, CrawlRun
from storage.query.export import EXPORT_FIELDS
from storage.query.records import VERSION_COLUMNS
from storage.record import ARTICLE_FIELDS, RECORD_FIELDS, VERSION_FIELDS
from storage.versioning import HASHED_FIELDS, REPORTED_FIELDS, normalise


def test_the_parsers_record_covers_the_archived_fields():
    assert set(RECORD_FIELDS) <= {f.name for f in fields(ArticleRecord)}
    assert set(RECORD_FIELDS) <= set(ArticleRecord(url="https://example.org/a").to_dict())


def test_every_version_field_is_a_version_column_and_read_back():
    columns = set(ArticleVersion.__table__.columns.keys())
    assert set(VERSION_FIELDS) <= columns
    assert set(VERSION_FIELDS) | set(ARTICLE_FIELDS) == set(RECORD_FIELDS)
    read_back = [c.key for c in VERSION_COLUMNS]
    assert set(RECORD_FIELDS) <= set(read_back) and len(read_back) == len(set(read_back))
    assert set(EXPORT_FIELDS) <= set(read_back)


def test_versioning_and_summary_fields_are_stored_fields():
    # HASHED_FIELDS is a policy (which fields make a version, in changed_fields order): a
    # subset of what a version stores, and exactly what normalise() produces.
    assert set(HASHED_FIELDS) < set(REPORTED_FIELDS) <= set(VERSION_FIELDS)
    assert set(normalise({})) == set(REPORTED_FIELDS)
    assert set(SUMMARY_FIELDS) < set(HASHED_FIELDS)


def test_run_counters_are_the_runs_counter_columns():
    counters = {c.key for c in CrawlRun.__table__.columns
                if isinstance(c.type, Integer) and c.default is not None and c.default.arg == 0}
    assert set(RUN_COUNTERS) == counters
    assert RUN_COUNTERS[:len(RUN_PAGE_COUNTERS)] == RUN_PAGE_COUNTERS
