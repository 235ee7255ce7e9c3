"""newsmon installed like any Python tool: a wheel built from this tree, installed into a fresh
virtualenv outside the repository, used from an unrelated working directory by a user whose
home and XDG folders are temporary. Configuration comes from the package data, the archive
lands in the XDG data directory, and nothing is written inside site-packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.replica import ReplicaServer, ReplicaSite

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "pages" / "handmade-rp-2025-seed"
# What a build needs is the source tree, not the checkout's environments, caches or archives.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "var", "build", "dist", "*.egg-info",
                                    "__pycache__", ".pytest_cache", ".ruff_cache", "*.db")


def run(*cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{cmd}: {proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtualenv holding newsmon from a wheel of this tree."""
    root = tmp_path_factory.mktemp("wheel")
    assert not root.resolve().is_relative_to(REPO)
    # Built from a copy, so that the build's own files (build/, *.egg-info) stay out of the
    # working tree; symlinks=True keeps crawler/defaults the link to config/ it is.
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_SOURCE)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
        str(root / "dist"), str(source), timeout=600)
    shutil.rmtree(source)
    wheel = next((root / "dist").glob("newsmon-*.whl"))
    run(sys.executable, "-m", "venv", str(root / "venv"), timeout=300)
    bin_dir = root / "venv" / "bin"
    run(str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel), timeout=900)
    return bin_dir


def site_packages(bin_dir: Path) -> Path:
    out = run(str(bin_dir / "python"), "-c",
              "import sysconfig; print(sysconfig.get_path('purelib'))")
    return Path(out.stdout.strip())


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def test_the_installed_wheel_works_outside_the_checkout(installed, tmp_path):
    home, config, data, work = (tmp_path / name for name in ("home", "config", "data", "work"))
    for folder in (home, work):
        folder.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEWSMON_", "SCRAPY_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(config), XDG_DATA_HOME=str(data),
               XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_STATE_HOME=str(tmp_path / "state"),
               PATH=f"{installed}{os.pathsep}{env.get('PATH', '')}")

    def newsmon(*args: str) -> subprocess.CompletedProcess:
        return run(str(installed / "newsmon"), *args, cwd=work, env=env, timeout=300)

    packages = site_packages(installed)
    before = snapshot(packages)
    archive = data / "newsmon" / "newsmon.db"

    info = json.loads(newsmon("info", "--json").stdout)
    assert info["archive"] == f"sqlite:///{archive}"
    built_in = info["layers"][0]
    assert Path(built_in["directory"]).is_relative_to(packages)
    assert {"newsmon.toml", "sites/rp.toml", "sites/generic.toml"} <= set(built_in["files"])
    assert info["site_profile_files"] == [str(packages / "crawler/defaults/sites/rp.toml")]

    newsmon("init", "--site", "rp")
    assert (config / "newsmon" / "newsmon.toml").is_file()
    assert (config / "newsmon" / "sites" / "rp.toml").is_file()
    info = json.loads(newsmon("info", "--json").stdout)
    assert info["layers"][1]["files"] == ["newsmon.toml", "sites/rp.toml"]

    with ReplicaServer(ReplicaSite.default()) as replica:
        crawl = newsmon("crawl", "--base-url", replica.base_url, "--json",
                        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0")
    result = json.loads(crawl.stdout.splitlines()[-1])
    assert result["status"] == "completed", crawl.stderr[-3000:]
    assert result["new_articles"] > 0
    assert archive.is_file()

    listed = json.loads(newsmon("articles", "--limit", "1000", "--json").stdout)
    assert len(listed) == result["new_articles"]

    url = (FIXTURE / "url.txt").read_text().strip()
    parsed = json.loads(newsmon("parse", str(FIXTURE / "page.html"), "--url", url).stdout)
    expected = json.loads((FIXTURE / "expected.json").read_text())
    assert (parsed["article_id"], parsed["title"]) == (expected["article_id"],
                                                       expected["title"])

    # Scrapy's deployment tools find the settings through the package's metadata.
    entry = run(str(installed / "python"), "-c",
                "from importlib.metadata import entry_points as e; "
                "print(e(group='scrapy')['settings'].load().BOT_NAME)", cwd=work, env=env)
    assert entry.stdout.strip() == "newsmon"

    assert snapshot(packages) == before
    assert list(work.iterdir()) == []
