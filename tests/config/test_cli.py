"""`newsmon info` and `newsmon init` as a user runs them: the archive and each setting with the
layer it came from (a user file over the built-in value, the environment over the file, --db
over everything), and starting files that change nothing until edited."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from crawler import config
from newsmon.cli import main


@pytest.fixture
def user(tmp_path, monkeypatch, capsys):
    """Run newsmon commands (in this process) from an empty working directory, with temporary
    home/XDG folders and no NEWSMON_* variables; the configuration is read afresh each time."""
    work = tmp_path / "work"
    work.mkdir()
    for name in [k for k in os.environ if k.startswith("NEWSMON_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    def run(*args: str, env: dict | None = None, cwd: Path = work):
        with monkeypatch.context() as scoped:
            for name, value in (env or {}).items():
                scoped.setenv(name, value)
            scoped.chdir(cwd)
            config.reload()
            capsys.readouterr()
            code = main(list(args))
            out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    run.work, run.config, run.data = work, tmp_path / "config" / "newsmon", tmp_path / "data"
    yield run
    config.reload()


def info(user, *args: str, **kwargs) -> dict:
    proc = user("info", "--json", *args, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_info_shows_the_default_archive_in_the_user_data_directory(user):
    shown = info(user)
    assert shown["archive"] == f"sqlite:///{user.data / 'newsmon' / 'newsmon.db'}"
    assert shown["archive_source"].startswith("default")
    assert [layer["layer"] for layer in shown["layers"]] == [
        "built-in", "user", "project", "environment"]
    assert shown["layers"][0]["files"][0] == "newsmon.toml"
    assert shown["settings"]["crawl.contact"] == {"value": "", "source": "built-in"}
    assert shown["site_profile"]["site.base_url"]["source"] == "built-in"
    assert not user.data.exists()  # info looks, it does not create
    text = user("info")
    assert text.returncode == 0
    assert "crawl.contact" in text.stdout and "built-in" in text.stdout


def test_layer_precedence_from_the_built_in_value_to_db(user, tmp_path):
    (user.config).mkdir(parents=True)
    (user.config / "newsmon.toml").write_text(
        '[archive]\ndb = "archive/user.db"\n[crawl]\ncontact = "ops@example.org"\n')
    shown = info(user)
    # A user file overrides a built-in value; its relative path is relative to the file.
    assert shown["settings"]["crawl.contact"] == {"value": "ops@example.org", "source": "user"}
    assert shown["archive"] == f"sqlite:///{user.config / 'archive' / 'user.db'}"
    assert shown["archive_source"] == "user"

    (user.work / "newsmon.toml").write_text('[archive]\ndb = "var/project.db"\n')
    shown = info(user)
    assert shown["archive"] == f"sqlite:///{user.work / 'var' / 'project.db'}"
    assert shown["archive_source"] == "project"
    assert shown["settings"]["crawl.contact"]["source"] == "user"

    env = {"NEWSMON_CRAWL__CONTACT": "https://example.org/crawl", "NEWSMON_DB": "env.db"}
    shown = info(user, env=env)
    assert shown["settings"]["crawl.contact"] == {"value": "https://example.org/crawl",
                                                  "source": "env NEWSMON_CRAWL__CONTACT"}
    assert shown["archive"] == f"sqlite:///{user.work / 'env.db'}"
    assert shown["archive_source"] == "NEWSMON_DB"
    assert shown["layers"][-1]["variables"] == ["NEWSMON_CRAWL__CONTACT"]

    shown = info(user, "--db", str(tmp_path / "cli.db"), env=env)
    assert shown["archive"] == f"sqlite:///{tmp_path / 'cli.db'}"
    assert shown["archive_source"] == "--db"


def test_init_writes_starting_files_that_change_nothing_until_edited(user):
    before = info(user)
    proc = user("init", "--site", "rp")
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {user.config / 'newsmon.toml'}" in proc.stdout
    assert (user.config / "sites" / "rp.toml").is_file()
    after = info(user)
    assert after["layers"][1]["files"] == ["newsmon.toml", "sites/rp.toml"]
    assert {k: v["value"] for k, v in after["settings"].items()} == {
        k: v["value"] for k, v in before["settings"].items()}
    # The copied profile now supplies every value of the site's profile, unchanged.
    assert {v["source"] for v in after["site_profile"].values()} == {"user"}
    assert {k: v["value"] for k, v in after["site_profile"].items()} == {
        k: v["value"] for k, v in before["site_profile"].items()}

    # Edited files survive a second init; --force replaces them.
    edited = user.config / "newsmon.toml"
    edited.write_text('[crawl]\ncontact = "me@example.org"\n')
    again = user("init")
    assert again.returncode == 0 and "kept" in again.stdout
    assert "me@example.org" in edited.read_text()
    assert user("init", "--force").returncode == 0
    assert "me@example.org" not in edited.read_text()


def test_init_into_a_project_directory_and_an_unknown_site(user):
    proc = user("init", "proj")
    assert proc.returncode == 0, proc.stderr
    assert (user.work / "proj" / "newsmon.toml").is_file()
    assert "NEWSMON_CONFIG_DIR=" in proc.stdout
    shown = info(user, cwd=user.work / "proj")
    assert shown["layers"][2]["directory"] == str(user.work / "proj")

    bad = user("init", "other", "--site", "nope")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "no built-in site profile 'nope'" in bad.stderr
    assert not (user.work / "other").exists()


def test_a_broken_config_file_is_one_line_and_exit_2(user):
    (user.work / "newsmon.toml").write_text("[crawl\n")
    proc = user("info")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert f"invalid TOML in {user.work / 'newsmon.toml'}" in proc.stderr
