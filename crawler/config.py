"""Configuration: `config/newsmon.toml` plus one profile per site in `config/sites/`.

The config directory is the repository's `config/` unless $NEWSMON_CONFIG_DIR points elsewhere.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB_PATH = REPO_ROOT / "var" / "newsmon.db"


class ConfigError(ValueError):
    """The configuration is missing or invalid."""


def config_dir() -> Path:
    return Path(os.environ.get("NEWSMON_CONFIG_DIR") or REPO_ROOT / "config")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from exc


@cache
def load_config() -> dict[str, Any]:
    """The global settings (`config/newsmon.toml`); an absent file means all defaults."""
    path = config_dir() / "newsmon.toml"
    return _read_toml(path) if path.exists() else {}


@cache
def load_site_profile(name: str) -> dict[str, Any]:
    """A site profile (`config/sites/<name>.toml`): addresses, discovery, revisit, selectors."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"invalid site name: {name!r}")
    return _read_toml(config_dir() / "sites" / f"{name}.toml")


def section(name: str) -> dict[str, Any]:
    """One table of the global config, empty when absent."""
    return dict(load_config().get(name) or {})


def resolve_db_url(explicit: str | None = None) -> tuple[str, str]:
    """The archive URL and where it came from: --db, $NEWSMON_DB, config, or the default file."""
    if explicit:
        return normalise_db_url(explicit, Path.cwd()), "--db"
    env = os.environ.get("NEWSMON_DB")
    if env:
        return normalise_db_url(env, Path.cwd()), "NEWSMON_DB"
    configured = section("archive").get("db")
    if configured:
        return normalise_db_url(configured, REPO_ROOT), "config"
    return f"sqlite:///{DEFAULT_DB_PATH}", "default"


def normalise_db_url(value: str, base: Path) -> str:
    """Accept a URL or a plain file path (taken as SQLite). Relative SQLite paths are made
    absolute against `base` (the working directory for --db and $NEWSMON_DB, the repository
    root for the config file), so a crawl subprocess started elsewhere finds the same file."""
    if "://" not in value:
        return f"sqlite:///{(base / Path(value).expanduser()).resolve()}"
    if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
        rel = value[len("sqlite:///"):]
        if rel and rel != ":memory:" and not rel.startswith("file:"):
            return f"sqlite:///{(base / rel).resolve()}"
    return value
