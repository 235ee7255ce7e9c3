"""`python -m bench` shows where it stands (issue 18): on a terminal a live display of the
section running and how many are done, on stderr; elsewhere the plain `[bench] NAME ...`
lines; stdout (the table) the same either way. One quick section (parse), run twice."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.terminal import ANSI, REPO, run_under_pty

pytestmark = pytest.mark.slow  # benchmark runs in subprocesses

ARGS = ["--quick", "--only", "parse", "--output"]


def _table(stdout: str) -> list[str]:
    # The table's header and figure names (the figures themselves vary from run to run).
    return [line.split("|")[1:3] for line in stdout.splitlines() if line.startswith("|")]


def test_bench_shows_the_section_running_on_a_terminal(tmp_path):
    out = tmp_path / "tty.json"
    code, stdout, terminal = run_under_pty([*ARGS, str(out)], module="bench")
    assert code == 0, terminal[-3000:]
    assert "\x1b[" in terminal  # the live display, drawn in place on stderr
    frames = ANSI.sub("", terminal)
    assert re.search(r"bench .*0/1 .*parse \.\.\.", frames), frames[-2000:]
    assert re.search(r"bench .*1/1 .*done", frames), frames[-2000:]
    assert "[bench]" not in frames  # the display instead of the plain lines
    results = json.loads(out.read_text(encoding="utf-8"))
    assert set(results["sections"]) == {"parse"}
    assert stdout.startswith("newsmon benchmark ") and "\x1b[" not in stdout
    assert results["table"] in stdout and stdout.rstrip().endswith(str(out))

    # Not on a terminal: the plain line, no control sequences, stdout alike.
    piped = tmp_path / "piped.json"
    proc = subprocess.run([sys.executable, "-m", "bench", *ARGS, str(piped)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[bench] parse ..." in proc.stderr
    assert "\x1b[" not in proc.stderr + proc.stdout
    assert _table(proc.stdout) == _table(stdout) and _table(stdout)
