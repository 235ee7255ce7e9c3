"""Shared fixtures. The replica of www.rp.pl/dyplomacja (tests/replica/) served over real HTTP."""

from __future__ import annotations

import os

import pytest

from tests import pg
from tests.replica import ReplicaServer, ReplicaSite


@pytest.fixture(scope="session", autouse=True)
def _no_user_configuration(tmp_path_factory):
    """The developer's own ~/.config/newsmon (the user layer of the configuration) and the
    configuration's variables (NEWSMON_DB, NEWSMON_CONFIG_DIR, NEWSMON_<SECTION>__<KEY>) must
    not change what the tests see, here or in the crawls, daemons and servers they start:
    every test runs as a user who configured nothing."""
    home = tmp_path_factory.mktemp("user")
    saved = dict(os.environ)
    configuring = [n for n in os.environ if n in ("NEWSMON_DB", "NEWSMON_CONFIG_DIR") or
                   (n.startswith("NEWSMON_") and "__" in n)]
    for name in configuring:
        del os.environ[name]
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def replica():
    """A fresh default site on its own server: mutate it, add faults, it is thrown away after."""
    with ReplicaServer(ReplicaSite.default()) as server:
        yield server


@pytest.fixture(scope="session")
def replica_session():
    """One server for the whole session: read-only use (no mutations, no faults)."""
    with ReplicaServer(ReplicaSite.default()) as server:
        yield server


# -- archives on both backends ------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not (tests then skip)."""
    return pg.unavailable_reason()


@pytest.fixture
def pg_url(pg_available):
    if pg_available:
        pytest.skip(pg_available)
    with pg.temporary_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path):
    # A directory that does not exist yet: the archive must create it.
    return f"sqlite:///{tmp_path / 'archive' / 'newsmon.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """The URL of an empty archive database, on each backend in turn."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


# -- the fast subset ----------------------------------------------------------------------


def pytest_collection_modifyitems(items):
    """PostgreSQL variants are slow by nature (a database created and dropped per test): they
    are marked here, in one place, so `pytest -m "not slow"` keeps the SQLite twin of each.
    Modules that crawl in subprocesses, run daemons, browsers or wheel builds carry
    `pytestmark = pytest.mark.slow` themselves."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_pg = "pg_url" in item.fixturenames or (
            callspec is not None and "postgresql" in callspec.params.values()
        )
        if on_pg:
            item.add_marker(pytest.mark.slow)
