"""The run's thresholds are Scrapy settings (`-s NAME=VALUE` overrides the TOML) and change the
outcome of real crawls of the replica; a crawl that cannot start says why in one line and
exits 2 (issue 11.4, issue 17)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.crawl.helpers import crawl, newsmon, run_record, versions

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses


def _fail_one_new_article(replica) -> str:
    aid = replica.site.case("full_2026").article_id
    replica.faults.add(re.compile(f"/dyplomacja/art{aid}"), "status", status=404)
    return aid


def test_max_error_ratio_setting_turns_one_failed_article_into_a_failed_run(replica, tmp_path):
    _fail_one_new_article(replica)
    default = crawl(replica.base_url, f"sqlite:///{tmp_path / 'default.db'}")
    assert default.returncode == 0, default.stderr
    assert default.run["status"] == "completed" and default.run["errors"] == 1

    strict = crawl(replica.base_url, f"sqlite:///{tmp_path / 'strict.db'}",
                   "-s", "NEWSMON_MAX_ERROR_RATIO=0")
    assert strict.returncode == 1
    assert strict.run["status"] == "failed" and strict.run["errors"] == 1
    assert re.fullmatch(r"1 of \d+ article fetches failed", strict.run["note"])
    # Everything else was archived all the same.
    assert strict.run["new_articles"] == default.run["new_articles"]


def test_min_coverage_setting_above_one_makes_the_run_degraded(replica, tmp_path):
    plain_db = f"sqlite:///{tmp_path / 'plain.db'}"
    plain = crawl(replica.base_url, plain_db)
    assert plain.returncode == 0, plain.stderr
    assert plain.run["degraded"] is False
    assert newsmon("health", "--db", plain_db, "--json").returncode == 0

    strict_db = f"sqlite:///{tmp_path / 'strict.db'}"
    strict = crawl(replica.base_url, strict_db, "-s", 'NEWSMON_MIN_COVERAGE={"title": 1.01}')
    # Degraded is a health alarm, not a failure: the run itself completed.
    assert strict.returncode == 0, strict.stderr
    assert strict.run["status"] == "completed" and strict.run["degraded"] is True
    assert strict.run["coverage"] == plain.run["coverage"]
    health = newsmon("health", "--db", strict_db, "--json")
    assert health.returncode == 1
    assert json.loads(health.stdout)["degraded"] is True


def test_max_body_shrink_setting_decides_suspect_or_version(replica, tmp_path):
    baseline = tmp_path / "baseline.db"
    assert crawl(replica.base_url, f"sqlite:///{baseline}").returncode == 0
    aid = replica.site.case("seed").article_id
    article = replica.site.article(aid)
    assert len(article.blocks) >= 4
    replica.site.edit(aid, blocks=list(article.blocks[:1]))  # most of the body cut

    runs, history = {}, {}
    for name, extra in (("default", []), ("lenient", ["-s", "NEWSMON_MAX_BODY_SHRINK=1"])):
        shutil.copyfile(baseline, tmp_path / f"{name}.db")
        db_url = f"sqlite:///{tmp_path / f'{name}.db'}"
        result = crawl(replica.base_url, db_url, "--recheck", "all", *extra)
        assert result.returncode == 0, result.stderr
        runs[name], history[name] = result.run, versions(db_url, aid)

    assert runs["default"]["suspect"] == 1 and runs["default"]["new_versions"] == 0
    assert len(history["default"]) == 1
    assert runs["lenient"]["suspect"] == 0 and runs["lenient"]["new_versions"] == 1
    assert [v["version"] for v in history["lenient"]] == [1, 2]
    assert "body" in history["lenient"][-1]["changed_fields"]


# -- a crawl that cannot start ------------------------------------------------------------


def _refused(proc, archive) -> str:
    """The one line a refused crawl prints; it exits 2 and touches no archive."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "AttributeError" not in proc.stderr
    assert not archive.exists()
    return lines[0]


def test_unknown_site_profile_is_one_line_and_exit_2(tmp_path):
    archive = tmp_path / "a.db"
    proc = newsmon("crawl", "--db", str(archive), "--site", "nosuch")
    line = _refused(proc, archive)
    assert "nosuch.toml" in line and "not found" in line


def test_profile_that_cannot_be_crawled_is_one_line_and_exit_2(tmp_path):
    # The generic profile parses pages of any site but names no site to crawl.
    archive = tmp_path / "a.db"
    line = _refused(newsmon("crawl", "--db", str(archive), "--site", "generic"), archive)
    assert "generic" in line and "base_url" in line


def test_unreadable_config_is_one_line_and_exit_2(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "newsmon.toml").write_text("[crawl\nsite = 'rp'\n")
    archive = tmp_path / "a.db"
    proc = newsmon("crawl", "--db", str(archive), env={"NEWSMON_CONFIG_DIR": str(config)})
    line = _refused(proc, archive)
    assert "newsmon.toml" in line


@pytest.mark.parametrize(("setting", "named"), [
    ("NEWSMON_MAX_ERROR_RATIO=lots", "NEWSMON_MAX_ERROR_RATIO"),
    ("NEWSMON_MAX_ERROR_RATIO=1.5", "NEWSMON_MAX_ERROR_RATIO"),
    ('NEWSMON_MIN_COVERAGE={"titel": 0.9}', "titel"),
    ("NEWSMON_MIN_COVERAGE=0.9", "NEWSMON_MIN_COVERAGE"),
    ("NEWSMON_MAX_BODY_SHRINK=-1", "NEWSMON_MAX_BODY_SHRINK"),
])
def test_bad_setting_is_one_line_and_exit_2(tmp_path, setting, named):
    archive = tmp_path / "a.db"
    proc = newsmon("crawl", "--db", str(archive), "--base-url", "http://127.0.0.1:9",
                   "-s", setting)
    line = _refused(proc, archive)
    assert named in line and "bad setting" in line


def test_bad_base_url_is_one_line_and_exit_2(tmp_path):
    archive = tmp_path / "a.db"
    line = _refused(newsmon("crawl", "--db", str(archive), "--base-url", "replica"), archive)
    assert "'replica'" in line


def test_a_refused_start_leaves_existing_runs_alone(replica_session, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    first = crawl(replica_session.base_url, db_url, "--max-articles", "1")
    assert first.returncode == 0, first.stderr
    proc = newsmon("crawl", "--db", db_url, "-s", "NEWSMON_MAX_ERROR_RATIO=x")
    assert proc.returncode == 2
    assert run_record(db_url, first.run["id"] + 1) is None  # no run was opened
