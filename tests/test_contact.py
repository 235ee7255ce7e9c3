"""The operator contact in the User-Agent, and the startup warning when a public site would
see none (issue 10.4)."""

from __future__ import annotations

import re
import shutil

import pytest

from crawler.contact import (
    contact_warning,
    is_local_target,
    user_agent,
    user_agent_contacts,
)
from storage import Archive
from storage.query import list_runs
from tests.crawl.helpers import FAST, REPO, newsmon

WARNING = "names no operator contact"


def test_the_user_agent_carries_the_contact():
    assert user_agent("https://example.org/our-crawler") == \
        "newsmon/0.1 (+https://example.org/our-crawler; news archive monitor)"
    assert user_agent_contacts(user_agent("https://example.org/our-crawler")) == [
        "https://example.org/our-crawler"]
    assert user_agent_contacts(user_agent("crawl-ops@example.org")) == ["crawl-ops@example.org"]


@pytest.mark.parametrize("contact", [None, "", "  ", "https://github.com/newsmon/newsmon",
                                     "https://github.com/newsmon/newsmon/"])
def test_no_contact_or_the_placeholder_is_no_contact(contact):
    assert user_agent_contacts(user_agent(contact)) == []


def test_the_old_shipped_user_agent_has_no_contact():
    old = "newsmon/0.1 (+https://github.com/newsmon/newsmon; news archive monitor)"
    assert user_agent_contacts(old) == []


@pytest.mark.parametrize(("url", "local"), [
    ("http://127.0.0.1:8000", True),
    ("http://localhost:8000", True),
    ("http://replica.localhost", True),
    ("http://[::1]:8000", True),
    ("http://10.1.2.3", True),
    ("http://192.168.0.5:8080", True),
    ("http://172.16.4.4", True),
    ("https://www.rp.pl", False),
    ("https://8.8.8.8", False),
    ("https://example.org/localhost", False),
])
def test_local_targets(url, local):
    assert is_local_target(url) is local


def test_the_warning_is_for_public_sites_without_a_contact():
    bare = user_agent("")
    assert "[crawl].contact" in contact_warning(bare, "https://www.rp.pl")
    assert contact_warning(user_agent("https://example.org/c"), "https://www.rp.pl") is None
    assert contact_warning(bare, "http://127.0.0.1:8000") is None


def _config_with_contact(tmp_path, contact: str) -> dict:
    """A copy of the shipped config directory with [crawl].contact set, as $NEWSMON_CONFIG_DIR."""
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    main = config / "newsmon.toml"
    text, count = re.subn(r"(?m)^contact = .*$", f'contact = "{contact}"', main.read_text())
    assert count == 1
    main.write_text(text)
    return {"NEWSMON_CONFIG_DIR": str(config)}


@pytest.mark.slow  # a crawl in a subprocess
def test_a_crawl_of_a_public_site_without_contact_warns_at_startup(tmp_path):
    # .invalid never resolves (RFC 2606): the crawl fails at once, after the spider opened.
    args = ("crawl", "--base-url", "http://newsmon-contact-check.invalid",
            "-s", "RETRY_ENABLED=0", "-s", "DOWNLOAD_TIMEOUT=5")
    unset = newsmon(*args, "--db", str(tmp_path / "a.db"),
                    env=_config_with_contact(tmp_path / "unset", ""))
    assert WARNING in unset.stderr and "[crawl].contact" in unset.stderr
    configured = newsmon(*args, "--db", str(tmp_path / "b.db"),
                         env=_config_with_contact(tmp_path / "set", "ops@example.org"))
    assert WARNING not in configured.stderr
    # ... although the spider did open (its run is recorded on the same signal).
    with Archive.open(f"sqlite:///{tmp_path / 'b.db'}") as archive:
        assert len(list_runs(archive)) == 1


@pytest.mark.slow  # a crawl in a subprocess
def test_the_replica_sees_the_contact_and_a_loopback_crawl_does_not_warn(replica, tmp_path):
    env = _config_with_contact(tmp_path, "https://example.org/our-crawler")
    proc = newsmon("crawl", "--base-url", replica.base_url, "--db", str(tmp_path / "a.db"),
                   "--max-articles", "1", *FAST, env=env)
    assert proc.returncode == 0, proc.stderr
    agents = {r.headers.get("User-Agent") for r in replica.requests}
    assert agents == {"newsmon/0.1 (+https://example.org/our-crawler; news archive monitor)"}
    unset = newsmon("crawl", "--base-url", replica.base_url, "--db", str(tmp_path / "b.db"),
                    "--max-articles", "1", *FAST, env=_config_with_contact(tmp_path / "u", ""))
    assert unset.returncode == 0, unset.stderr
    assert WARNING not in unset.stderr
