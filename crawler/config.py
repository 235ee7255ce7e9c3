"""Configuration: the global settings (`newsmon.toml`) and one profile per site
(`sites/NAME.toml`), resolved in layers. Each layer overrides only the keys it sets:

1. built-in: the shipped files, package data in `crawler/defaults/` (in the repository a
   link to `config/`, so there is one copy of them);
2. user: `$XDG_CONFIG_HOME/newsmon/` (default `~/.config/newsmon/`);
3. project: `$NEWSMON_CONFIG_DIR`, else the working directory when it holds a `newsmon.toml`;
4. environment: `NEWSMON_<SECTION>__<KEY>=VALUE` (global settings only), `NEWSMON_DB`;
5. command line: `--db` (see resolve_db_url) and the crawl's `-s NAME=VALUE` Scrapy settings.

Every value remembers the layer it came from, for `newsmon info`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

APP_NAME = "newsmon"
CONFIG_FILE = "newsmon.toml"
ENV_PREFIX = "NEWSMON_"
# NEWSMON_<SECTION>__<KEY>: a double underscore separates tables and key (names use single ones).
ENV_SEPARATOR = "__"

BUILT_IN, USER, PROJECT = "built-in", "user", "project"


class ConfigError(ValueError):
    """The configuration is missing or invalid."""


@dataclass(frozen=True)
class ConfigLayer:
    """A directory that may hold `newsmon.toml` and `sites/*.toml`."""

    name: str
    directory: Traversable | None  # None: the layer is not in use (e.g. no project directory)
    why: str  # how the directory was chosen, for `newsmon info`

    def file(self, relative: str) -> Traversable | None:
        if self.directory is None:
            return None
        path = self.directory
        for part in relative.split("/"):  # one part at a time: Python 3.11's Traversable
            path = path / part
        return path if path.is_file() else None

    def files(self) -> list[str]:
        """The config files this layer holds, relative to its directory."""
        if self.directory is None or not self.directory.is_dir():
            return []
        found = [CONFIG_FILE] if self.file(CONFIG_FILE) else []
        sites = self.directory / "sites"
        if sites.is_dir():
            found += sorted(f"sites/{p.name}" for p in sites.iterdir()
                            if p.name.endswith(".toml") and p.is_file())
        return found


@dataclass
class Resolved:
    """Merged values and, for every leaf (dotted key), the name of the layer that set it."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # the files merged, lowest layer first


# -- where things live ---------------------------------------------------------------------


def _xdg_dir(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    # The XDG spec ignores relative values; HOME comes from the same mapping so tests can
    # point everything at temporary folders.
    value = env.get(variable, "")
    if value and Path(value).is_absolute():
        return Path(value)
    home = env.get("HOME") or str(Path.home())
    return Path(home) / fallback


def user_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/newsmon` (default ~/.config/newsmon): the user layer."""
    return _xdg_dir(os.environ if env is None else env, "XDG_CONFIG_HOME", ".config") / APP_NAME


def user_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_DATA_HOME/newsmon` (default ~/.local/share/newsmon): the default archive's home."""
    return _xdg_dir(os.environ if env is None else env, "XDG_DATA_HOME",
                    ".local/share") / APP_NAME


def default_db_path(env: Mapping[str, str] | None = None) -> Path:
    return user_data_dir(env) / "newsmon.db"


def built_in_layer() -> ConfigLayer:
    # Package data beside this module: a real folder in a wheel, the link to config/ in the
    # repository (what an editable install and `scrapy crawl` from the checkout read).
    directory = resources.files("crawler") / "defaults"
    if not directory.is_dir():
        # e.g. a checkout made by git without symlink support, or a broken install
        raise ConfigError(f"the shipped configuration is missing ({directory}): "
                          "reinstall newsmon")
    return ConfigLayer(BUILT_IN, directory, "shipped with newsmon")


def config_layers(env: Mapping[str, str] | None = None,
                  cwd: Path | None = None) -> list[ConfigLayer]:
    """The file layers, lowest precedence first."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    user = user_config_dir(env)
    layers = [
        built_in_layer(),
        ConfigLayer(USER, user,
                    "$XDG_CONFIG_HOME/newsmon" if env.get("XDG_CONFIG_HOME")
                    else "~/.config/newsmon"),
    ]
    explicit = env.get("NEWSMON_CONFIG_DIR")
    if explicit:
        project = (cwd / Path(explicit).expanduser()).resolve()
        if not project.is_dir():
            raise ConfigError(f"NEWSMON_CONFIG_DIR is not a directory: {project}")
        layers.append(ConfigLayer(PROJECT, project, "$NEWSMON_CONFIG_DIR"))
    elif (cwd / CONFIG_FILE).is_file():
        layers.append(ConfigLayer(PROJECT, cwd.resolve(), f"./{CONFIG_FILE}"))
    else:
        layers.append(ConfigLayer(PROJECT, None, f"no ./{CONFIG_FILE}, $NEWSMON_CONFIG_DIR unset"))
    return layers


# -- reading and merging -------------------------------------------------------------------


def _read_toml(path: Traversable) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from exc


def _merge(into: Resolved, values: Mapping[str, Any], source: str, prefix: str = "",
           target: dict[str, Any] | None = None) -> None:
    """Deep-merge `values` into `into.values`: tables merge key by key, anything else (arrays
    included) replaces what lower layers set."""
    target = into.values if target is None else target
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            if not isinstance(target.get(key), dict):
                _forget(into, dotted)
                target[key] = {}
            _merge(into, value, source, f"{dotted}.", target[key])
        else:
            _forget(into, dotted)
            target[key] = value
            into.sources[dotted] = source


def _forget(into: Resolved, dotted: str) -> None:
    # A value replacing a table (or a table replacing a value) drops the old leaves' sources.
    for key in [k for k in into.sources if k == dotted or k.startswith(f"{dotted}.")]:
        del into.sources[key]


def _parse_env_value(text: str) -> Any:
    """A TOML value when the text is one (`0.5`, `true`, `["a"]`, `"12"`), else the text."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def env_overrides(env: Mapping[str, str]) -> list[tuple[str, list[str], Any]]:
    """(variable, key path, value) for every non-empty NEWSMON_<SECTION>__<KEY> variable."""
    found = []
    for variable, text in sorted(env.items()):
        if not variable.startswith(ENV_PREFIX) or ENV_SEPARATOR not in variable or not text:
            continue
        path = [part.lower() for part in variable[len(ENV_PREFIX):].split(ENV_SEPARATOR)]
        if all(path):
            found.append((variable, path, _parse_env_value(text)))
    return found


def resolve_config(env: Mapping[str, str] | None = None,
                   cwd: Path | None = None) -> Resolved:
    """The global settings with their sources, from the layers and the environment."""
    env = os.environ if env is None else env
    resolved = Resolved()
    for layer in config_layers(env, cwd):
        path = layer.file(CONFIG_FILE)
        if path is None:
            if layer.name == BUILT_IN:
                raise ConfigError(f"the shipped {CONFIG_FILE} is missing from {layer.directory}")
            continue
        _merge(resolved, _read_toml(path), layer.name)
        resolved.files.append(str(path))
    for variable, path, value in env_overrides(env):
        nested: dict[str, Any] = {path[-1]: value}
        for part in reversed(path[:-1]):
            nested = {part: nested}
        _merge(resolved, nested, f"env {variable}")
    return resolved


def resolve_site_profile(name: str, env: Mapping[str, str] | None = None,
                         cwd: Path | None = None) -> Resolved:
    """A site profile merged from `sites/<name>.toml` of every layer that has one."""
    _check_site_name(name)
    resolved = Resolved()
    layers = config_layers(env, cwd)
    for layer in layers:
        path = layer.file(f"sites/{name}.toml")
        if path is not None:
            _merge(resolved, _read_toml(path), layer.name)
            resolved.files.append(str(path))
    if not resolved.files:
        looked = ", ".join(str(layer.directory) for layer in layers if layer.directory)
        raise ConfigError(f"site profile not found: no sites/{name}.toml in {looked}")
    return resolved


def _check_site_name(name: str) -> None:
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"invalid site name: {name!r}")


@cache
def _current_config() -> Resolved:
    return resolve_config()


@cache
def _current_profile(name: str) -> Resolved:
    return resolve_site_profile(name)


def reload() -> None:
    """Forget the settings and profiles read so far: the next use reads the layers again
    (after a change of environment or working directory)."""
    _current_config.cache_clear()
    _current_profile.cache_clear()


def load_config() -> dict[str, Any]:
    """The global settings of this process (every layer merged; read once)."""
    return _current_config().values


def config_sources() -> dict[str, str]:
    """Dotted key of every global setting -> the layer it came from."""
    return dict(_current_config().sources)


def load_site_profile(name: str) -> dict[str, Any]:
    """A site profile (addresses, discovery, revisit, selectors), every layer merged."""
    return _current_profile(name).values


def section(name: str) -> dict[str, Any]:
    """One table of the global config, empty when absent."""
    return dict(load_config().get(name) or {})


def site_names(layers: list[ConfigLayer]) -> list[str]:
    """Every site with a profile in one of these layers."""
    return sorted({name[len("sites/"):-len(".toml")] for layer in layers
                   for name in layer.files() if name.startswith("sites/")})


# -- starting files for `newsmon init` -----------------------------------------------------

STARTER_HEADER = """\
# newsmon settings, written by `newsmon init`. Every value below is commented out and shows
# the built-in default: uncomment and change only what you need, so the rest keeps following
# newsmon's defaults (also after an upgrade). Layers, each overriding only the keys it sets:
# built-in < ~/.config/newsmon/newsmon.toml ($XDG_CONFIG_HOME) < ./newsmon.toml or
# $NEWSMON_CONFIG_DIR/newsmon.toml < NEWSMON_<SECTION>__<KEY> variables < command line.
# `newsmon info` shows every value and the layer it came from.
"""


def starter_config_text() -> str:
    """The shipped newsmon.toml with every value commented out (its comments kept), so that the
    file documents each setting and, until edited, overrides nothing."""
    shipped = built_in_layer().file(CONFIG_FILE)
    if shipped is None:
        raise ConfigError(f"the shipped {CONFIG_FILE} is missing; reinstall newsmon")
    lines = shipped.read_text(encoding="utf-8").splitlines()
    # The shipped file's own header describes the built-in file; ours replaces it.
    first_table = next(i for i, line in enumerate(lines) if line.startswith("["))
    out = []
    for line in lines[first_table:]:
        bare = line.strip()
        keep = not bare or bare.startswith("#") or line.startswith("[")
        out.append(line if keep else f"# {line}")
    return STARTER_HEADER + "\n" + "\n".join(out) + "\n"


def starter_profile_text(name: str) -> str:
    """A copy of the built-in profile `name`, to edit."""
    _check_site_name(name)
    built_in = built_in_layer()
    shipped = built_in.file(f"sites/{name}.toml")
    if shipped is None:
        raise ConfigError(f"no built-in site profile {name!r} (there are: "
                          f"{', '.join(site_names([built_in]))})")
    return (f"# Site profile {name!r}, copied from newsmon's built-in one by `newsmon init "
            f"--site {name}`.\n# It overrides the built-in profile key by key: delete what you "
            f"do not change, so that\n# fixes to the shipped selectors still reach you after an "
            f"upgrade.\n\n" + shipped.read_text(encoding="utf-8"))


# -- the archive ---------------------------------------------------------------------------


def resolve_db_url(explicit: str | None = None) -> tuple[str, str]:
    """The archive URL and where it came from: --db, $NEWSMON_DB, [archive].db of a layer, or
    the default file in the user data directory."""
    if explicit:
        return normalise_db_url(explicit, Path.cwd()), "--db"
    env = os.environ.get("NEWSMON_DB")
    if env:
        return normalise_db_url(env, Path.cwd()), "NEWSMON_DB"
    configured = section("archive").get("db")
    if configured:
        source = config_sources().get("archive.db", BUILT_IN)
        return normalise_db_url(configured, _base_of(source)), source
    return f"sqlite:///{default_db_path()}", "default (user data directory)"


def _base_of(source: str) -> Path:
    """What a relative path set in `source` is relative to: the directory of the file that set
    it (a project's var/ stays beside its newsmon.toml), the working directory for a variable.
    Never the installed package: a built-in relative path is under the user data directory."""
    if source == BUILT_IN:
        return user_data_dir()
    for layer in config_layers():
        if layer.name == source and isinstance(layer.directory, Path):
            return layer.directory
    return Path.cwd()


def normalise_db_url(value: str, base: Path) -> str:
    """Accept a URL or a plain file path (taken as SQLite). Relative SQLite paths are made
    absolute against `base`, so a crawl subprocess started elsewhere finds the same file."""
    if "://" not in value:
        return f"sqlite:///{(base / Path(value).expanduser()).resolve()}"
    if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
        rel = value[len("sqlite:///"):]
        if rel and rel != ":memory:" and not rel.startswith("file:"):
            return f"sqlite:///{(base / rel).resolve()}"
    return value
