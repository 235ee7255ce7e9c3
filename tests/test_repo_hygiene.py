"""The repository stands on its own: no tracked file points at a path outside it, neither a
relative one that climbs out (`../../../shared/notes.md`) nor an absolute path of one
machine (`/work/...`, `/home/<user>/...`). Example paths meant for the reader (`/tmp/a.db`,
`/opt/newsmon`, `/etc/systemd/...`) and URL paths are fine."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Roots of home and work directories on Linux and macOS machines. A URL path such as
# https://example.org/home/ is preceded by a host character and does not match.
MACHINE_PATH = re.compile(r"(?<![\w.~:%@-])/(?:work|root|home|Users|mnt|media)/[\w.-]")
# A relative path starting with ../ (not the middle of ".../" or of "a/../b").
CLIMBING_PATH = re.compile(r"(?<![\w./-])(?:\.\./)+[\w.-]+(?:/[\w.-]+)*")


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.decode().split("\0") if name]


def outside_references(path: Path, text: str) -> list[str]:
    """The references in `text` (the content of `path`) to places outside the repository."""
    found = [m.group(0) for m in MACHINE_PATH.finditer(text)]
    for m in CLIMBING_PATH.finditer(text):
        target = (path.parent / m.group(0)).resolve()
        if not target.is_relative_to(ROOT):
            found.append(m.group(0))
    return found


def test_no_tracked_file_refers_to_a_path_outside_the_repository():
    problems = []
    for path in tracked_files():
        if path == Path(__file__).resolve():
            continue  # its examples of what must be found
        try:
            # A symbolic link refers to its target (crawler/defaults -> ../config).
            text = str(path.readlink()) if path.is_symlink() else path.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            continue  # deleted in the working tree, or binary
        for ref in outside_references(path, text):
            problems.append(f"{path.relative_to(ROOT)}: {ref}")
    assert problems == []


def test_the_check_finds_what_it_must_and_only_that():
    config = ROOT / "config" / "sites" / "rp.toml"
    # Outside references: a climb out of the repository, absolute paths of a machine.
    assert outside_references(config, "see ../../../shared/rp-anatomy.md") == [
        "../../../shared/rp-anatomy.md"]
    assert outside_references(config, "(/work/shared/extraction-peers.md)")
    assert outside_references(config, 'path = "/home/alice/newsmon/var"')
    assert outside_references(config, "sqlite:////root/archive.db")
    assert outside_references(config, "/Users/bob/notes.md")
    # Not outside: a climb that stays inside, URL paths, example paths for the reader.
    assert outside_references(ROOT / "docs" / "rp-markup" / "README.md",
                              "[anatomy](../rp-anatomy.md)") == []
    assert outside_references(config, "../../README.md") == []
    for fine in ("https://example.org/home/page", "og:url .../eu-gipfel-a-771234.html",
                 "--db /tmp/replica.db", "cd /opt/newsmon", "/etc/systemd/system/x.service",
                 "file:///etc/passwd", "/dyplomacja/art40671561", "http://host/a/../b"):
        assert outside_references(config, fine) == [], fine
