"""Configuration layers (crawler.config), resolved for a given environment and working
directory: built-in < user (XDG) < project < environment; partial files override only what
they set, and every value names the layer it came from."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from crawler.config import (
    ConfigError,
    built_in_layer,
    config_layers,
    default_db_path,
    env_overrides,
    resolve_config,
    resolve_site_profile,
    starter_config_text,
    starter_profile_text,
    user_config_dir,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    """An environment whose home, config and data directories are empty temporary folders."""
    (tmp_path / "home").mkdir()
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data")}


@pytest.fixture
def cwd(tmp_path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def shipped(relative: str) -> dict:
    return tomllib.loads((REPO / "config" / relative).read_text(encoding="utf-8"))


def test_the_built_in_layer_is_the_repository_config_folder():
    # In a checkout (and an editable install) crawler/defaults is the link to config/: the
    # one copy the wheel ships as package data.
    directory = built_in_layer().directory
    assert Path(str(directory)).resolve() == (REPO / "config").resolve()
    assert {"newsmon.toml", "sites/rp.toml", "sites/generic.toml"} <= set(
        built_in_layer().files())


def test_nothing_configured_means_the_built_in_values(home, cwd):
    resolved = resolve_config(home, cwd)
    assert resolved.values == shipped("newsmon.toml")
    assert set(resolved.sources.values()) == {"built-in"}
    assert resolved.sources["health.min_coverage.title"] == "built-in"
    assert [layer.directory for layer in config_layers(home, cwd)][1:] == [
        Path(home["XDG_CONFIG_HOME"]) / "newsmon", None]


def test_a_partial_user_file_overrides_only_what_it_sets(home, cwd):
    write(Path(home["XDG_CONFIG_HOME"]) / "newsmon" / "newsmon.toml",
          '[crawl]\ncontact = "ops@example.org"\n'
          "[health]\nmin_coverage = { title = 0.5 }\n")
    resolved = resolve_config(home, cwd)
    built_in = shipped("newsmon.toml")
    assert resolved.values["crawl"]["contact"] == "ops@example.org"
    assert resolved.sources["crawl.contact"] == "user"
    assert resolved.values["crawl"]["download_delay"] == built_in["crawl"]["download_delay"]
    assert resolved.sources["crawl.download_delay"] == "built-in"
    # An inline table merges key by key like any table.
    assert resolved.values["health"]["min_coverage"] == {
        **built_in["health"]["min_coverage"], "title": 0.5}
    assert resolved.sources["health.min_coverage.title"] == "user"
    assert resolved.sources["health.min_coverage.body"] == "built-in"


def test_project_over_user_and_env_over_both(home, cwd):
    write(Path(home["XDG_CONFIG_HOME"]) / "newsmon" / "newsmon.toml",
          "[crawl]\ndownload_delay = 2.0\nretry_times = 7\n")
    write(cwd / "newsmon.toml", "[crawl]\ndownload_delay = 3.0\n")
    env = {**home, "NEWSMON_CRAWL__DOWNLOAD_DELAY": "4.5",
           "NEWSMON_SCHEDULE__CRON": "*/5 * * * *"}
    files_only = resolve_config(home, cwd)
    assert files_only.values["crawl"]["download_delay"] == 3.0
    assert files_only.sources["crawl.download_delay"] == "project"
    assert files_only.values["crawl"]["retry_times"] == 7
    assert files_only.sources["crawl.retry_times"] == "user"

    resolved = resolve_config(env, cwd)
    assert resolved.values["crawl"]["download_delay"] == 4.5  # a TOML value: a float
    assert resolved.sources["crawl.download_delay"] == "env NEWSMON_CRAWL__DOWNLOAD_DELAY"
    assert resolved.values["schedule"]["cron"] == "*/5 * * * *"  # not TOML: the text itself
    assert resolved.values["crawl"]["retry_times"] == 7


def test_newsmon_config_dir_is_the_project_directory_instead_of_the_working_one(home, cwd,
                                                                                tmp_path):
    write(cwd / "newsmon.toml", "[crawl]\nretry_times = 1\n")
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "newsmon.toml", "[crawl]\nretry_times = 2\n")
    resolved = resolve_config({**home, "NEWSMON_CONFIG_DIR": str(elsewhere)}, cwd)
    assert resolved.values["crawl"]["retry_times"] == 2
    assert resolved.files[-1] == str(elsewhere / "newsmon.toml")
    with pytest.raises(ConfigError, match="NEWSMON_CONFIG_DIR is not a directory"):
        resolve_config({**home, "NEWSMON_CONFIG_DIR": str(tmp_path / "missing")}, cwd)


def test_environment_variables_follow_one_pattern():
    env = {"NEWSMON_DB": "x.db", "NEWSMON_CONFIG_DIR": "/tmp/c", "NEWSMON_CRAWL__CONTACT": "",
           "NEWSMON_HEALTH__MIN_COVERAGE__TITLE": "0.8", "NEWSMON_CRAWL__SITE": '"12"',
           "NEWSMON___X": "1", "OTHER_CRAWL__SITE": "x"}
    assert env_overrides(env) == [
        ("NEWSMON_CRAWL__SITE", ["crawl", "site"], "12"),
        ("NEWSMON_HEALTH__MIN_COVERAGE__TITLE", ["health", "min_coverage", "title"], 0.8),
    ]


def test_a_broken_file_is_one_clear_error_naming_it(home, cwd):
    path = write(cwd / "newsmon.toml", "[crawl\ncontact = 1\n")
    with pytest.raises(ConfigError, match=f"invalid TOML in {path}"):
        resolve_config(home, cwd)


def test_site_profiles_merge_per_key_and_users_can_add_sites(home, cwd):
    user_sites = Path(home["XDG_CONFIG_HOME"]) / "newsmon" / "sites"
    write(user_sites / "rp.toml", "[discovery.listing]\nmax_pages = 2\n")
    write(cwd / "newsmon.toml", "")
    write(cwd / "sites" / "rp.toml", "[revisit]\nhorizon_days = 7\n")
    built_in = shipped("sites/rp.toml")
    profile = resolve_site_profile("rp", home, cwd)
    assert profile.values["discovery"]["listing"]["max_pages"] == 2
    assert profile.sources["discovery.listing.max_pages"] == "user"
    assert profile.values["revisit"]["horizon_days"] == 7
    assert profile.sources["revisit.horizon_days"] == "project"
    assert profile.values["discovery"]["listing"]["path"] == built_in["discovery"]["listing"][
        "path"]
    assert profile.values["selectors"] == built_in["selectors"]
    assert len(profile.files) == 3

    write(user_sites / "example.toml", '[site]\nname = "example"\n')
    assert resolve_site_profile("example", home, cwd).values == {"site": {"name": "example"}}
    with pytest.raises(ConfigError, match="site profile not found: no sites/nope.toml"):
        resolve_site_profile("nope", home, cwd)
    with pytest.raises(ConfigError, match="invalid site name"):
        resolve_site_profile("../rp", home, cwd)


def test_xdg_directories_default_under_home_and_ignore_relative_values(home):
    assert user_config_dir(home) == Path(home["XDG_CONFIG_HOME"]) / "newsmon"
    assert default_db_path(home) == Path(home["XDG_DATA_HOME"]) / "newsmon" / "newsmon.db"
    bare = {"HOME": home["HOME"], "XDG_DATA_HOME": "relative/data"}
    assert user_config_dir(bare) == Path(home["HOME"]) / ".config" / "newsmon"
    assert default_db_path(bare) == Path(home["HOME"]) / ".local/share/newsmon/newsmon.db"


def test_the_starter_file_documents_every_setting_and_overrides_none():
    text = starter_config_text()
    parsed = tomllib.loads(text)
    built_in = shipped("newsmon.toml")
    assert set(parsed) == set(built_in)
    assert all(table == {} for table in parsed.values())
    for table, values in built_in.items():
        for key in values:
            assert f"\n# {key} = " in text, f"[{table}].{key} not shown"


def test_the_starter_profile_is_the_shipped_one():
    text = starter_profile_text("rp")
    assert tomllib.loads(text) == shipped("sites/rp.toml")
    with pytest.raises(ConfigError, match="no built-in site profile 'nope'.*generic, rp"):
        starter_profile_text("nope")
