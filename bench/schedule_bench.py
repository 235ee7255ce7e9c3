"""Scheduling latency (issue 10): how soon `newsmon schedule --every 3 -s DOWNLOAD_DELAY=0`,
with the shipped configuration, has three completed runs of the default replica, and what a
crawl process costs before its run opens.

- three runs: wall time from launching the daemon to the `finished_at` of its third completed
  run (target 14 s). The floor is the daemon's own start, the 3 s to the first fire time, two
  more intervals and the third crawl; the first crawl archives the replica's 31 articles.
- cold start: a plain `newsmon crawl` process, launch to the run's `started_at` (imports,
  Scrapy's start-up, the archive opened): what every run paid before the scheduler started
  its crawl processes ahead.
- pre-started: `newsmon crawl --wait-for-start`, loaded and waiting, from the go on its stdin
  to the run's `started_at`: what a scheduled run pays now.

Run in the repository root, so that the daemon reads the checkout's configuration (NEWSMON_*
variables are dropped from its environment); the replica is served by this process.

    python -m bench.schedule_bench [--quick]
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import REPO_ROOT, row, summary

TARGET_THREE_RUNS_S = 14.0
EVERY = 3
FAST = ["-s", "DOWNLOAD_DELAY=0"]  # as the command: AutoThrottle stays on


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}


def _runs(db: Path) -> list[dict]:
    """The archive's runs, read with sqlite3 read-only: polling through Archive.open would
    check the schema every time and compete with the daemon for the CPU and the database."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [{"id": i, "status": status, "started_at": started, "finished_at": finished}
                for i, status, started, finished in con.execute(
                    "SELECT id, status, started_at, finished_at FROM crawl_runs")]
    finally:
        con.close()


def _utc(value) -> datetime:
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def three_runs(base_url: str, tmp: Path, timeout: float = 120.0) -> dict:
    """One daemon: seconds from its launch to its third completed run."""
    db = tmp / f"schedule-{time.monotonic_ns()}.db"
    db_url = f"sqlite:///{db}"
    load = os.getloadavg()[0]
    launched = datetime.now(UTC)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "newsmon", "schedule", "--base-url", base_url, "--db", db_url,
         "--every", str(EVERY), *FAST],
        cwd=REPO_ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    completed: list[dict] = []
    try:
        deadline = time.monotonic() + timeout
        while len(completed) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            if db.exists():
                with contextlib.suppress(sqlite3.Error):  # the daemon may be creating it
                    completed = [r for r in _runs(db) if r["status"] == "completed"]
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=60)
    if len(completed) < 3:
        raise RuntimeError(f"fewer than 3 completed runs in {timeout:g} s:\n{err[-3000:]}")
    completed.sort(key=lambda r: _utc(r["finished_at"]))
    return {"seconds": (_utc(completed[2]["finished_at"]) - launched).total_seconds(),
            "load_avg_1min": round(load, 2),
            "run_starts_s": [round((_utc(r["started_at"]) - launched).total_seconds(), 2)
                             for r in completed[:3]]}


def _crawl_cmd(base_url: str, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "newsmon", "crawl", "--base-url", base_url,
            "--db", f"sqlite:///{db}", "--trigger", "scheduled", *FAST, *extra]


def _opened_after(db: Path, since: datetime) -> float:
    newest = max(_runs(db), key=lambda r: r["id"])
    return (_utc(newest["started_at"]) - since).total_seconds()


def cold_start(base_url: str, db: Path) -> float:
    """Launch of a plain crawl process to its run's start."""
    launched = datetime.now(UTC)
    subprocess.run(_crawl_cmd(base_url, db), cwd=REPO_ROOT, env=_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return _opened_after(db, launched)


def _waiting(pid: int) -> bool:
    """The process sleeps and has used no CPU for half a second: loaded, reading stdin."""
    def state():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], int(fields[11]) + int(fields[12])  # state, utime + stime

    before = state()
    time.sleep(0.5)
    after = state()
    return after[0] == "S" and after[1] == before[1]


def warm_start(base_url: str, db: Path, timeout: float = 60.0) -> float:
    """Go on the stdin of a loaded `--wait-for-start` process to its run's start."""
    proc = subprocess.Popen(_crawl_cmd(base_url, db, "--wait-for-start"), cwd=REPO_ROOT,
                            env=_env(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not _waiting(proc.pid):
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the pre-started crawl process never settled")
    go = datetime.now(UTC)
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    if proc.wait(timeout=120) != 0:
        raise RuntimeError(f"the pre-started crawl exited {proc.returncode}")
    return _opened_after(db, go)


def run(quick: bool = False) -> dict:
    from tests.replica import ReplicaServer, ReplicaSite

    rounds = 1 if quick else 3
    starts = 1 if quick else 5
    result: dict = {"every_s": EVERY, "target_s": TARGET_THREE_RUNS_S}
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmpdir, \
            ReplicaServer(ReplicaSite.default()) as replica:
        tmp = Path(tmpdir)
        daemons = [three_runs(replica.base_url, tmp) for _ in range(rounds)]
        db = tmp / "starts.db"
        cold_start(replica.base_url, db)  # the first crawl archives the site: not counted
        cold, warm = [], []
        for _ in range(starts):  # side by side, in alternation
            cold.append(cold_start(replica.base_url, db))
            warm.append(warm_start(replica.base_url, db))
    result.update({"three_runs": summary([d["seconds"] for d in daemons]), "daemons": daemons,
                   "cold_start": summary(cold), "pre_started": summary(warm)})
    result["rows"] = _rows(result)
    return result


def _rows(res: dict) -> list[dict]:
    three = res["three_runs"]
    loads = "/".join(f"{d['load_avg_1min']:g}" for d in res["daemons"])
    return [
        row("schedule", f"`schedule --every {EVERY} -s DOWNLOAD_DELAY=0`: launch to 3rd "
                        f"completed run (load {loads})", three, "s",
            f"<= {TARGET_THREE_RUNS_S:g}", three["median"] <= TARGET_THREE_RUNS_S, 1),
        row("schedule", "crawl process, cold: launch to run opened", res["cold_start"], "s"),
        row("schedule", "crawl process, pre-started: go to run opened", res["pre_started"],
            "s"),
    ]


if __name__ == "__main__":
    out = run(quick="--quick" in sys.argv)
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2, default=str))
