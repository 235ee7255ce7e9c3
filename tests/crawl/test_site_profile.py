"""Site specifics live only in the site profile (issue 11.6): the site a crawl or a parse uses
is chosen by configuration ([crawl].site, or --site), and names, addresses and the article id
notation come from config/sites/<name>.toml."""

from __future__ import annotations

import json
import shutil

import pytest

from crawler.config import ConfigError, load_site_profile
from crawler.urls import SiteRules, article_ref
from tests.crawl.helpers import REPO, crawl, newsmon

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses


@pytest.fixture
def mirror_config(tmp_path):
    """A config directory whose default site is `mirror`: rp.pl's profile under another name."""
    config = tmp_path / "config"
    shutil.copytree(REPO / "config" / "sites", config / "sites")
    profile = (config / "sites" / "rp.toml").read_text(encoding="utf-8")
    assert 'name = "rp"' in profile
    (config / "sites" / "mirror.toml").write_text(profile.replace('name = "rp"', 'name = "mirror"'),
                                                  encoding="utf-8")
    (config / "newsmon.toml").write_text('[crawl]\nsite = "mirror"\n', encoding="utf-8")
    return config


def test_a_crawl_without_a_site_crawls_the_configured_one(replica, tmp_path, mirror_config,
                                                          monkeypatch):
    monkeypatch.setenv("NEWSMON_CONFIG_DIR", str(mirror_config))
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    result = crawl(replica.base_url, db_url, "--max-articles", "2")
    assert result.returncode == 0, result.stderr
    assert result.run["site"] == "mirror" and result.run["new_articles"] == 2
    # --site overrides it, into the same archive.
    named = crawl(replica.base_url, db_url, "--max-articles", "1", "--site", "rp")
    assert named.returncode == 0, named.stderr
    assert named.run["site"] == "rp" and named.run["new_articles"] == 1


def test_parse_uses_the_configured_site_unless_told(mirror_config):
    page = REPO / "tests" / "fixtures" / "pages" / "handmade-rp-2025-seed" / "page.html"
    env = {"NEWSMON_CONFIG_DIR": str(mirror_config)}
    configured = newsmon("parse", str(page), env=env)
    assert configured.returncode == 0, configured.stderr
    assert json.loads(configured.stdout)["site"] == "mirror"
    told = newsmon("parse", str(page), "--site", "generic", env=env)
    assert told.returncode == 0, told.stderr
    assert json.loads(told.stdout)["site"] == "generic"


def test_a_profile_names_its_site_and_base_url():
    profile = load_site_profile("rp")
    rules = SiteRules.from_profile(profile)
    assert (rules.name, rules.public_base_url) == (profile["site"]["name"],
                                                   profile["site"]["base_url"])
    for key in ("name", "base_url", "article_pattern"):
        broken = {**profile, "site": {k: v for k, v in profile["site"].items() if k != key}}
        with pytest.raises(ConfigError, match=key):
            SiteRules.from_profile(broken)
    bad_pattern = {**profile, "site": {**profile["site"], "article_pattern": r"^/x/(\d+)$"}}
    with pytest.raises(ConfigError, match="article_id"):
        SiteRules.from_profile(bad_pattern)


def test_article_references_in_the_sites_own_notation():
    rp = load_site_profile("rp")["site"]["id_pattern"]
    assert article_ref("art40671561", rp) == "40671561"
    for kept in ("40671561", "https://www.rp.pl/dyplomacja/art40671561-x", "ART", "12"):
        assert article_ref(kept, rp) == kept
    assert article_ref("n-555", r"n-(?P<article_id>\d+)") == "555"
    assert article_ref("art1", None) == "art1"
