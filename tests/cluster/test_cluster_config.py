"""[cluster] of the configuration: nodes, credentials from the environment, checks."""

import pytest

from crawler.config import ConfigError
from newsmon.cluster import load_cluster


def test_no_nodes_means_local():
    assert not load_cluster({}, env={}).enabled


def test_nodes_and_credentials_from_the_environment():
    config = load_cluster({"nodes": ["http://10.0.0.5:6800/",
                                     {"name": "b", "url": "http://10.0.0.6:6800/",
                                      "username": "${U}", "password": "${P}"}],
                           "sites": ["x", "y"], "max_jobs": 3}, env={"U": "crawl", "P": "pw"})
    assert [(n.name, n.username, n.password) for n in config.nodes] == [
        ("10.0.0.5:6800", None, None), ("b", "crawl", "pw")]
    assert config.sites == ["x", "y"] and config.max_jobs == 3
    assert config.nodes[1].endpoint("schedule.json") == "http://10.0.0.6:6800/schedule.json"


@pytest.mark.parametrize("values", [
    {"nodes": [{"url": "http://a/", "password": "${MISSING}"}]},
    {"nodes": ["http://a/", {"name": "a", "url": "http://b/"}]},  # same name
    {"nodes": [{"name": "no url"}]},
    {"nodes": ["http://a/"], "max_jobs": 0},
])
def test_bad_cluster_settings_are_refused(values):
    with pytest.raises(ConfigError):
        load_cluster({"sites": ["x"], **values}, env={})
