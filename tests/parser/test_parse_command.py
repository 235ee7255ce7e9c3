"""`newsmon parse` run for real, in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from parser_cases import PAGES, REPO

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

SEED = PAGES / "handmade-rp-2025-seed" / "page.html"
WORDPRESS = PAGES / "generic-wordpress" / "page.html"
CANONICAL = (
    "https://www.rp.pl/dyplomacja/art40671561-sekretarz-generalny-nato-reaguje-na-pakt-obronny-"
    "zawarty-przez-rosje-i-koree-polnocna"
)


def newsmon(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("newsmon")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "newsmon"]
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"}  # output must be UTF-8 anyway
    return subprocess.run(
        [*cmd, "parse", *args], input=stdin, capture_output=True, cwd=REPO, env=env, timeout=60
    )


def test_single_file_prints_one_json_object():
    proc = newsmon(str(SEED))
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout.decode("utf-8"))
    assert record["url"] == CANONICAL  # no --url: the canonical URL
    assert record["title"].startswith("Sekretarz generalny NATO")
    assert "Północną" in proc.stdout.decode("utf-8")  # ensure_ascii=False
    assert record["published_at"] == "2024-06-20T06:01:00+02:00"
    assert proc.stderr == b""


def test_several_files_print_json_lines_in_order():
    proc = newsmon(str(SEED), str(WORDPRESS), str(SEED))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode("utf-8").splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert [r["article_id"] for r in records] == ["40671561", None, "40671561"]


def test_stdin_dash():
    proc = newsmon("-", stdin=SEED.read_bytes())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["article_id"] == "40671561"


def test_url_override():
    url = "https://www.rp.pl/dyplomacja/art40671561-other-slug?utm_source=x"
    proc = newsmon(str(SEED), "--url", url)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["url"] == url
    assert record["canonical_url"] == CANONICAL


def test_site_generic():
    proc = newsmon("--site", "generic", str(WORDPRESS))
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["site"] == "generic"
    assert record["authors"] == ["Maria Lindqvist"]


def _assert_clean_error(proc, *needles: str) -> str:
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err
    return err


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.html"
    proc = newsmon(str(missing))
    err = _assert_clean_error(proc, str(missing), "no such file")
    assert len(err.strip().splitlines()) == 1
    assert proc.stdout == b""


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"\x00\x01\x02\x03PK\x03\x04" + bytes(range(256)) * 4, "binary"),
        (b'{"articles": []}', "JSON"),
        (b"just some text\nwithout any markup\n", "no HTML tags"),
        (b"<p>x", "no article content"),
        (b"<html><head><title>t</title></head><body><div></div></body></html>", "no article"),
    ],
    ids=["empty", "whitespace", "binary", "json", "plain-text", "tiny-fragment", "no-content"],
)
def test_unparseable_file(tmp_path, content, needle):
    path = tmp_path / "page.html"
    path.write_bytes(content)
    proc = newsmon(str(path))
    err = _assert_clean_error(proc, str(path), needle)
    assert err.startswith("newsmon parse: error: ")
    assert len(err.strip().splitlines()) == 1


def test_directory_is_reported(tmp_path):
    _assert_clean_error(newsmon(str(tmp_path)), "directory")


def test_bad_files_among_good_ones(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.html"
    proc = newsmon(str(SEED), str(empty), str(missing), str(WORDPRESS), "--site", "rp")
    err = _assert_clean_error(proc, str(empty), str(missing))
    assert len(err.strip().splitlines()) == 2
    lines = proc.stdout.decode("utf-8").splitlines()
    assert len(lines) == 2  # the good ones are still printed, in order
    assert json.loads(lines[0])["article_id"] == "40671561"


def test_unknown_site():
    proc = newsmon("--site", "nosuchsite", str(SEED))
    _assert_clean_error(proc, "nosuchsite")


def test_no_files_is_a_usage_error():
    proc = newsmon()
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr
