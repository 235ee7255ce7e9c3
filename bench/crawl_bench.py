"""Crawl throughput and incremental cost, end to end: `newsmon crawl` in a subprocess against a
generated replica served by another subprocess.

- The replica runs in its own process (its rendering would otherwise share the crawl's
  interpreter and GIL) and pre-renders every article page before the crawl starts, so that
  during the crawl it only copies bytes; its CPU time is reported as a share of the total.
- The crawl is a real `python -m newsmon crawl ... --json` process; os.wait4 gives its own CPU
  time and peak RSS (not the replica's, not ours).
- Politeness is switched off for the benchmark only (delay 0, no AutoThrottle, 16 connections
  to the host), and the site profile follows the section's sitemaps so that discovery reaches
  every generated article (production follows only the news sitemap: 1,000 newest).
- Incremental cost: a second crawl of the unchanged site with --recheck all, against the first.
- Scheduling: `newsmon schedule --every 3` to three completed runs, a crawl process's start-up
  (bench/schedule_bench.py).

The replica process is bench/replica_proc.py, the databases bench/databases.py, the profiled
crawl bench/crawl_profile.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO_ROOT, row, schedule_bench, summary
from bench.databases import pg_available, pg_db, sqlite_db
from bench.replica_proc import Replica

TARGET_RATE = 100.0  # articles archived per second
TARGET_RSS_GROWTH = 0.10  # peak RSS at 5,000 articles within 10% of 1,000
CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "WARNING",
}


# -- the crawl process -----------------------------------------------------------------------

def bench_config_dir(tmp: Path) -> Path:
    """A copy of config/ whose rp profile also follows the section's sitemaps."""
    dest = tmp / "config"
    shutil.copytree(REPO_ROOT / "config", dest)
    profile = dest / "sites" / "rp.toml"
    text = profile.read_text(encoding="utf-8")
    new, count = re.subn(r"^(sitemap_index\s*=\s*\{[^}\n]*?)\s*\}",
                         r'\1, follow = "dyplomacja" }', text, count=1, flags=re.M)
    if not count:
        raise RuntimeError(f"no sitemap_index line to adapt in {profile}")
    profile.write_text(new, encoding="utf-8")
    return dest


def crawl(base_url: str, db_url: str, config_dir: Path, recheck: str = "due") -> dict:
    """One `newsmon crawl` process: its run record, wall time, CPU time and peak RSS."""
    cmd = [sys.executable, "-m", "newsmon", "crawl", "--base-url", base_url, "--db", db_url,
           "--json", "--recheck", recheck]
    for key, value in CRAWL_SETTINGS.items():
        cmd += ["-s", f"{key}={value}"]
    env = {**os.environ, "NEWSMON_CONFIG_DIR": str(config_dir)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=err, text=True)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would sum all children).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"crawl printed no run record (exit {proc.returncode}):\n"
                           f"{stderr[-3000:]}")
    run = json.loads(lines[-1])
    span = _seconds(run["started_at"], run["finished_at"])
    return {"run": run, "wall_s": wall, "span_s": span, "exit": proc.returncode,
            "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_mb": usage.ru_maxrss / 1024}


def _seconds(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def crawl_with_server_stats(replica: Replica, db_url: str, config_dir: Path,
                            recheck: str = "due") -> dict:
    before = replica.stats(reset=True)
    result = crawl(replica.base_url, db_url, config_dir, recheck)
    after = replica.stats()
    result["server"] = {k: v for k, v in after.items() if k != "cpu_s"}
    result["server_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    archived = result["run"]["new_versions"]
    result["archived"] = archived
    result["rate"] = archived / result["span_s"] if result["span_s"] > 0 else 0.0
    result["rate_wall"] = archived / result["wall_s"]
    result["cpu_ms_per_article"] = result["cpu_s"] / max(archived, 1) * 1e3
    total_cpu = result["cpu_s"] + result["server_cpu_s"]
    result["server_cpu_share"] = result["server_cpu_s"] / total_cpu if total_cpu else 0.0
    return result



# -- the benchmark ---------------------------------------------------------------------------

def _pair(replica: Replica, db_url: str, config_dir: Path, after_first=None) -> dict:
    """First crawl of a fresh archive, then a --recheck all crawl of the unchanged site."""
    first = crawl_with_server_stats(replica, db_url, config_dir)
    if after_first is not None:
        after_first(db_url, first)
    second = crawl_with_server_stats(replica, db_url, config_dir, recheck="all")
    return {"first": first, "second": second}


def _figures(pairs: list[dict]) -> dict:
    firsts = [p["first"] for p in pairs]
    seconds = [p["second"] for p in pairs]
    pick = lambda rs, key: summary([r[key] for r in rs])  # noqa: E731
    arts = [s["server"]["article_requests"] for s in seconds]
    return {
        "articles_archived": pick(firsts, "archived"),
        "articles_per_s": pick(firsts, "rate"),
        "articles_per_s_process_wall": pick(firsts, "rate_wall"),
        "cpu_ms_per_article": pick(firsts, "cpu_ms_per_article"),
        # What one full core would give: the crawl's Python work is serialised by the GIL.
        "cpu_bound_rate": summary([1000 / r["cpu_ms_per_article"] for r in firsts]),
        "peak_rss_mb": pick(firsts, "maxrss_mb"),
        "server_cpu_share": pick(firsts, "server_cpu_share"),
        "first_crawl_s": pick(firsts, "span_s"),
        "errors": sum(r["run"]["errors"] for r in firsts + seconds),
        "incremental": {
            "article_requests": summary(arts),
            "answered_304": summary([s["server"]["article_304"] for s in seconds]),
            "share_304": summary([s["server"]["article_304"] / max(a, 1)
                                  for s, a in zip(seconds, arts, strict=True)]),
            "new_versions": summary([s["run"]["new_versions"] for s in seconds]),
            "bytes_ratio": summary([s["server"]["bytes"] / max(p["first"]["server"]["bytes"], 1)
                                    for s, p in zip(seconds, pairs, strict=True)]),
            "wall_ratio": summary([s["span_s"] / p["first"]["span_s"]
                                   for s, p in zip(seconds, pairs, strict=True)]),
        },
        "runs": [{"first": _brief(p["first"]), "second": _brief(p["second"])} for p in pairs],
    }


def _brief(r: dict) -> dict:
    run = r["run"]
    return {"span_s": round(r["span_s"], 2), "wall_s": round(r["wall_s"], 2),
            "cpu_s": round(r["cpu_s"], 2), "maxrss_mb": round(r["maxrss_mb"], 1),
            "server_cpu_s": round(r["server_cpu_s"], 2), "status": run["status"],
            "exit": r["exit"], "server": r["server"],
            **{k: run.get(k) for k in ("pages_fetched", "not_modified", "new_versions",
                                        "unchanged", "errors", "parse_failures")}}


def run(quick: bool = False, keep_sqlite=None, keep_pg=None) -> dict:
    """keep_sqlite / keep_pg(db_url, first_crawl) are called after the first crawl of the
    first run on each backend (the storage benchmark measures that archive)."""
    n_main = 40 if quick else 2000
    runs = 1 if quick else 3
    scale = (40, 80) if quick else (1000, 5000)
    scale_runs = 1 if quick else 2
    result: dict = {"settings": CRAWL_SETTINGS, "articles": n_main, "runs": runs}
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmpdir:
        tmp = Path(tmpdir)
        config_dir = bench_config_dir(tmp)
        with Replica(n_main) as replica:
            result["replica"] = {"articles": replica.articles, "prerender_s": replica.prerender_s}
            sqlite_pairs = []
            for i in range(runs):
                with sqlite_db(tmp) as db:
                    sqlite_pairs.append(_pair(replica, db, config_dir,
                                              keep_sqlite if i == 0 else None))
            result["sqlite"] = _figures(sqlite_pairs)
            reason = pg_available()
            if reason:
                result["postgresql"] = {"skipped": reason}
            else:
                pairs = []
                for i in range(runs):
                    with pg_db() as db:
                        pairs.append(_pair(replica, db, config_dir, keep_pg if i == 0 else None))
                result["postgresql"] = _figures(pairs)
        rss = {}
        for n in scale:
            if n == n_main:  # the first crawls above are the same measurement
                firsts = [p["first"] for p in sqlite_pairs]
            else:
                with Replica(n) as replica:
                    firsts = []
                    for _ in range(scale_runs):
                        with sqlite_db(tmp) as db:
                            firsts.append(crawl_with_server_stats(replica, db, config_dir))
            rss[n] = {"articles_archived": summary([r["archived"] for r in firsts]),
                      "peak_rss_mb": summary([r["maxrss_mb"] for r in firsts]),
                      "articles_per_s": summary([r["rate"] for r in firsts])}
        small, large = (rss[n]["peak_rss_mb"]["median"] for n in scale)
        result["rss_scaling"] = {"sizes": list(scale), "growth": round(large / small - 1, 4),
                                 "by_size": {str(k): v for k, v in rss.items()}}
    # How soon the scheduler's runs happen, and a crawl process's start-up (schedule_bench).
    result["schedule"] = schedule_bench.run(quick)
    result["rows"] = _rows(result) + result["schedule"]["rows"]
    return result


def _rows(res: dict) -> list[dict]:
    rows = []
    for backend in ("sqlite", "postgresql"):
        fig = res.get(backend, {})
        if "skipped" in fig:
            rows.append(row("crawl", f"{backend}: skipped ({fig['skipped'][:60]})", None))
            continue
        n = fig["articles_archived"]["median"]
        rate = fig["articles_per_s"]
        rows += [
            row("crawl", f"{backend}: articles archived/s ({n:.0f} articles)", rate, "/s",
                f">= {TARGET_RATE:g}", rate["median"] >= TARGET_RATE, 1),
            row("crawl", f"{backend}: same, process wall incl. start-up",
                fig["articles_per_s_process_wall"], "/s", digits=1),
            row("crawl", f"{backend}: crawl CPU per article", fig["cpu_ms_per_article"],
                "ms CPU"),
            row("crawl", f"{backend}: ceiling on one idle core (1000 / CPU ms per article)",
                fig["cpu_bound_rate"], "/s", digits=1),
            row("crawl", f"{backend}: peak RSS of the crawl", fig["peak_rss_mb"], "MB", digits=0),
            row("crawl", f"{backend}: replica server's share of CPU", fig["server_cpu_share"],
                "", digits=3),
        ]
        inc = fig["incremental"]
        rows += [
            row("incremental", f"{backend}: article requests answered 304 (share)",
                inc["share_304"], "", "1.0", inc["share_304"]["min"] == 1.0, 3),
            row("incremental", f"{backend}: bytes downloaded vs first crawl", inc["bytes_ratio"],
                "", digits=4),
            row("incremental", f"{backend}: new versions", inc["new_versions"], "", "0",
                inc["new_versions"]["max"] == 0, 0),
            row("incremental", f"{backend}: wall time vs first crawl", inc["wall_ratio"], "",
                digits=3),
        ]
    sc = res["rss_scaling"]
    small, large = sc["sizes"]
    for n in sc["sizes"]:
        rows.append(row("crawl", f"sqlite: peak RSS at {n} articles",
                        sc["by_size"][str(n)]["peak_rss_mb"], "MB", digits=0))
    rows.append(row("crawl", f"RSS growth {small} -> {large} articles",
                    {"median": sc["growth"] * 100}, "%", f"<= {TARGET_RSS_GROWTH * 100:g}",
                    sc["growth"] <= TARGET_RSS_GROWTH, 1))
    return rows



if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "profile":
        from bench.crawl_profile import profile

        print(json.dumps(profile(int(sys.argv[2])), indent=1))
    else:
        out = run(quick="--quick" in sys.argv)
        print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2))
