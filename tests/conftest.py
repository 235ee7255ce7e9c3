"""Shared fixtures. The replica of www.rp.pl/dyplomacja (tests/replica/) served over real HTTP."""

from __future__ import annotations

import pytest

from tests.replica import ReplicaServer, ReplicaSite


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
