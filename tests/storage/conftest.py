"""Fixtures for storage tests: every archive test runs on SQLite (a temporary file) and on
PostgreSQL (a database created for the test and dropped after it): the `db_url`, `pg_url` and
`sqlite_url` fixtures come from tests/conftest.py.

Test modules here are named test_storage_* and there is no __init__.py: a package named
`storage` under tests/ would shadow the real one.
"""

from __future__ import annotations

import pytest
from storage_records import make_record

from storage import Archive


@pytest.fixture
def record():
    return make_record


@pytest.fixture
def archive(db_url):
    with Archive.open(db_url) as arch:
        yield arch
