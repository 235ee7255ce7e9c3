"""Progress of a crawl on stderr (newsmon/progress.py) and one clean line per network problem
(newsmon/logpolicy.py), with `newsmon crawl` in a subprocess against the replica: under a
pseudo-terminal (live display), without one (log lines), and against a closed port."""

from __future__ import annotations

import json
import re
import socket

import pytest

from tests.crawl.helpers import newsmon
from tests.terminal import ANSI, run_under_pty

pytestmark = pytest.mark.slow

# Each article answered after a pause: the crawl of the 32 articles takes seconds, long
# enough for the display to change several times.
SLOW_ARTICLES = re.compile(r"/art\d")


def _counts(text: str, name: str) -> list[int]:
    return [int(n) for n in re.findall(rf"\b{name} (\d+)", text)]


def test_live_display_on_a_terminal_and_json_on_stdout(replica, sqlite_url, tmp_path):
    replica.faults.add(SLOW_ARTICLES, "slow", seconds=0.15)
    code, stdout, terminal = run_under_pty(
        ["crawl", "--base-url", replica.base_url, "--db", sqlite_url, "--json",
         "-s", "DOWNLOAD_DELAY=0"])
    assert code == 0, terminal[-2000:]
    run = json.loads(stdout)  # stdout is the run record alone: progress went to the terminal
    listed = json.loads(newsmon("runs", "--db", sqlite_url, "--json").stdout)[0]
    assert {k: listed[k] for k in ("id", "status", "pages_fetched", "new_articles")} == \
        {k: run[k] for k in ("id", "status", "pages_fetched", "new_articles")}

    assert "\x1b[" in terminal  # drawn in place, with control sequences
    frames = ANSI.sub("", terminal)
    fetched = _counts(frames, "fetched")
    assert fetched == sorted(fetched)
    assert len(set(fetched)) >= 4, fetched  # updated several times as the crawl went on
    assert fetched[-1] == run["pages_fetched"] == 31  # one of 32 is forbidden by robots.txt
    assert _counts(frames, "new")[-1] == run["new_articles"]
    assert "robots.txt skipped 1" in frames

    # export --output: the same display, the file alone gets the records.
    out = tmp_path / "export.jsonl"
    code, stdout, terminal = run_under_pty(["export", "--db", sqlite_url, "--output", str(out)])
    assert code == 0 and stdout == ""
    assert "export" in ANSI.sub("", terminal) and "31/?" in ANSI.sub("", terminal)
    assert len(out.read_text().splitlines()) == 31


def test_log_lines_without_a_terminal(replica, sqlite_url):
    replica.faults.add(SLOW_ARTICLES, "slow", seconds=0.15)
    proc = newsmon("crawl", "--base-url", replica.base_url, "--db", sqlite_url,
                   "-s", "DOWNLOAD_DELAY=0", "-s", "NEWSMON_PROGRESS_INTERVAL=1")
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "[newsmon.progress]" in line]
    assert len(lines) >= 3, proc.stderr
    assert "\x1b" not in proc.stderr and "\r" not in proc.stderr
    done = [int(re.search(r": (\d+)/(\d+) articles", line).group(1)) for line in lines]
    assert done == sorted(done) and done[-1] > done[0]
    assert all(re.search(r"fetched \d+, not modified \d+, new \d+, changed \d+, suspect \d+, "
                         r"errors \d+", line) for line in lines)
    # stdout: the summary line alone, in its usual form.
    assert re.fullmatch(r"run \d+ rp completed: pages fetched 31, .*\n", proc.stdout)

    # reparse: a line per batch of 5 with an interval of 0 (every command reads
    # [crawl].progress_interval), counts rising to the 31 versions.
    proc = newsmon("reparse", "--db", sqlite_url, "--dry-run", "--batch", "5",
                   env={"NEWSMON_CRAWL__PROGRESS_INTERVAL": "0"})
    assert proc.returncode == 0, proc.stderr
    pages = [int(n) for n in re.findall(r"\[newsmon.progress\] INFO: reparse: (\d+) pages",
                                        proc.stderr)]
    assert len(pages) >= 3 and pages == sorted(pages) and pages[-1] <= 31
    assert "\x1b" not in proc.stderr

    # db upgrade from before the two back-fills (change summaries, change events): a line each.
    from alembic import command

    from storage.db import make_engine
    from storage.migrate import alembic_config

    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0008")
    engine.dispose()
    proc = newsmon("db", "upgrade", "--db", sqlite_url,
                   env={"NEWSMON_CRAWL__PROGRESS_INTERVAL": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "back-fill change summaries: 31/31 versions" in proc.stderr
    assert "back-fill change events: 31/31 versions" in proc.stderr
    assert proc.stdout.startswith("archive ")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_site_one_line_per_problem(sqlite_url):
    url = f"http://127.0.0.1:{_closed_port()}"
    proc = newsmon("crawl", "--base-url", url, "--db", sqlite_url, "-s", "DOWNLOAD_DELAY=0")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("robots.txt") == 1  # one line, not the retry's and robots' both
    assert f"WARNING: {url}/robots.txt unreachable: connection refused" in proc.stderr
    sources = [line for line in proc.stderr.splitlines() if "discovery source" in line]
    assert len(sources) == 4 and all("connection_refused" in line for line in sources)
    assert re.search(r"^newsmon crawl: run \d+ rp failed: no article could be reached",
                     proc.stderr, re.M)
    assert proc.stdout.startswith("run ")

    verbose = newsmon("crawl", "-v", "--base-url", url, "--db", sqlite_url,
                      "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0")
    assert verbose.returncode == 1
    assert "Traceback" in verbose.stderr and "ConnectionRefusedError" in verbose.stderr

    quiet = newsmon("-q", "crawl", "--base-url", url, "--db", sqlite_url,
                    "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0")
    assert quiet.returncode == 1
    assert quiet.stderr.strip().splitlines() == [
        line for line in quiet.stderr.strip().splitlines() if line.startswith("newsmon crawl:")]
