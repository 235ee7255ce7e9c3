"""The replica and the clean baseline archive the reliability scenarios start from, one of each
per test module."""

from __future__ import annotations

import pytest

from tests.reliability.scenarios import build_baseline
from tests.replica import ReplicaServer, ReplicaSite


@pytest.fixture(scope="module")
def server():
    with ReplicaServer(ReplicaSite.default()) as srv:
        yield srv


@pytest.fixture(scope="module")
def baseline(server, tmp_path_factory):
    path = tmp_path_factory.mktemp("baseline") / "baseline.db"
    build_baseline(server, path)
    return path
