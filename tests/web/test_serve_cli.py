"""`newsmon serve` refusals: no web extra, no archive, a bad public URL (exit 2, one line)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.crawl.helpers import REPO

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

# Runs the CLI with fastapi made unimportable, as on an install without the `web` extra.
_WITHOUT_FASTAPI = ("import sys; sys.modules['fastapi'] = None; from newsmon.cli import main; "
                    "sys.exit(main(sys.argv[1:]))")


def _serve(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "newsmon",
                                                             *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO)


def test_without_the_web_extra_it_says_how_to_install_it(tmp_path):
    proc = _serve("serve", "--db", str(tmp_path / "a.db"), code=_WITHOUT_FASTAPI)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'newsmon[web]'" in lines[0]


def test_a_missing_archive_is_refused_without_creating_it(tmp_path):
    proc = _serve("serve", "--db", str(tmp_path / "none.db"), "--port", "1")
    assert proc.returncode == 2
    assert "no archive at" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "none.db").exists()


def test_public_url_must_be_http(tmp_path):
    proc = _serve("serve", "--db", str(tmp_path / "a.db"), "--public-url", "javascript:x")
    assert proc.returncode == 2 and "--public-url" in proc.stderr
