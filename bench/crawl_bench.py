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

    python -m bench.crawl_bench serve 2000    # the replica process (used by run())
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench import REPO_ROOT, row, summary

TARGET_RATE = 100.0  # articles archived per second
TARGET_RSS_GROWTH = 0.10  # peak RSS at 5,000 articles within 10% of 1,000
PG_ADMIN_DSN = os.environ.get("NEWSMON_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "WARNING",
}
ARTICLE_PATH = re.compile(r"^/dyplomacja/art\d+")


# -- the replica process ---------------------------------------------------------------------

def serve(n: int) -> None:
    """Serve a generated site of `n` articles with every article page pre-rendered; print one
    JSON line with the base URL once ready; stop when stdin closes."""
    from email.utils import format_datetime

    from tests.replica import ReplicaServer, ReplicaSite, render
    from tests.replica.server import Response, _not_modified

    class BenchServer(ReplicaServer):
        pages: dict[str, tuple[str, object, bytes]] = {}
        mark = 0

        def respond(self, method, target, headers):
            if target.startswith("/__bench/"):
                return self._control(target)
            return super().respond(method, target, headers)

        def _article(self, section, aid, headers):
            hit = self.pages.get(aid) if section == "dyplomacja" else None
            if hit is None or not self.send_validators:
                return super()._article(section, aid, headers)
            etag, last_mod, body = hit
            validators = {"ETag": etag, "Last-Modified": format_datetime(last_mod, usegmt=True)}
            if _not_modified(headers, etag, last_mod):
                return Response(304, b"", headers=validators)
            return Response(200, body, headers=validators)

        def _control(self, target):
            with self._log_lock:
                if target.startswith("/__bench/reset"):
                    self.mark = len(self.requests)
                recs = [r for r in self.requests[self.mark:]
                        if not r.path.startswith("/__bench/")]
            usage = resource.getrusage(resource.RUSAGE_SELF)
            arts = [r for r in recs if ARTICLE_PATH.match(r.path)]
            stats = {
                "requests": len(recs),
                "bytes": sum(r.bytes_sent for r in recs),
                "article_requests": len(arts),
                "article_200": sum(r.status == 200 for r in arts),
                "article_304": sum(r.status == 304 for r in arts),
                "article_bytes": sum(r.bytes_sent for r in arts),
                "cpu_s": usage.ru_utime + usage.ru_stime,
            }
            return Response(200, json.dumps(stats).encode(), "application/json")

    started = time.perf_counter()
    site = ReplicaSite.generated(n) if n > 32 else ReplicaSite.default()
    server = BenchServer(site).start()
    pages = {}
    for a in site.live_articles():
        snap = a.snapshot()
        html = render.rebase(render.article_page(site, snap), server.base_url)
        pages[a.article_id] = (f'"{snap.fingerprint()}"', snap.last_modified,
                               html.encode("utf-8"))
    BenchServer.pages = pages
    print(json.dumps({"base_url": server.base_url, "articles": len(pages),
                      "prerender_s": round(time.perf_counter() - started, 2)}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


class Replica:
    """The replica process seen from the benchmark."""

    def __init__(self, n: int):
        self.n = n
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.crawl_bench", "serve", str(n)],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"the replica process for {n} articles did not start")
        info = json.loads(line)
        self.base_url, self.articles = info["base_url"], info["articles"]
        self.prerender_s = info["prerender_s"]

    def stats(self, reset: bool = False) -> dict:
        path = "/__bench/reset" if reset else "/__bench/stats"
        with urllib.request.urlopen(self.base_url + path, timeout=30) as resp:
            return json.loads(resp.read())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


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


# -- databases ---------------------------------------------------------------------------------

@contextlib.contextmanager
def sqlite_db(tmp: Path):
    path = tmp / f"crawl-{uuid.uuid4().hex[:8]}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL figure"
        return f"PostgreSQL unreachable at {PG_ADMIN_DSN}: {exc}".strip()
    return None


@contextlib.contextmanager
def pg_db():
    import psycopg
    from sqlalchemy import make_url

    name = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_DSN).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    result["rows"] = _rows(result)
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


# -- where the crawl's time goes ----------------------------------------------------------

def profile(n: int, top: int = 25) -> dict:
    """One crawl of `n` articles in this process under cProfile, timed in per-thread CPU time:
    the reactor thread (Scrapy, discovery, parsing) and the archive writer threads (versioning,
    compression, SQL) are profiled separately, since the pipeline writes in worker threads."""
    import cProfile
    import pstats
    import threading

    from crawler.pipelines import ArchivePipeline
    from newsmon.crawl import run_crawl

    local, writers = threading.local(), []
    original = ArchivePipeline._write

    def profiled_write(self, ctx, item):
        prof = getattr(local, "prof", None)
        if prof is None:
            prof = local.prof = cProfile.Profile(time.thread_time)
            writers.append(prof)
        prof.enable()
        try:
            return original(self, ctx, item)
        finally:
            prof.disable()

    ArchivePipeline._write = profiled_write
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmpdir, Replica(n) as replica:
        tmp = Path(tmpdir)
        os.environ["NEWSMON_CONFIG_DIR"] = str(bench_config_dir(tmp))
        settings = {k: v for k, v in CRAWL_SETTINGS.items() if k != "LOG_LEVEL"}
        main = cProfile.Profile(time.thread_time)
        cpu0 = time.process_time()
        main.enable()
        record = run_crawl(db=f"sqlite:///{tmp / 'profile.db'}", base_url=replica.base_url,
                           settings=settings)
        main.disable()
        cpu = time.process_time() - cpu0
    archived = (record or {}).get("new_versions", 0)
    out = {"articles": archived, "process_cpu_ms_per_article": cpu / max(archived, 1) * 1e3}
    for name, profs in (("reactor_thread", [main]), ("writer_threads", writers)):
        if not profs:
            continue
        stats = pstats.Stats(*profs)
        total = sum(v[2] for v in stats.stats.values())
        rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
        cum = sorted(stats.stats.items(), key=lambda kv: kv[1][3], reverse=True)[:top]
        fmt = lambda items, col: [  # noqa: E731
            {"function": f"{_short(p)}:{ln}({fn})", "calls": v[1],
             "ms_per_article": round(v[col] / max(archived, 1) * 1e3, 3)}
            for (p, ln, fn), v in items]
        out[name] = {"cpu_ms_per_article": round(total / max(archived, 1) * 1e3, 3),
                     "own_time": fmt(rows, 2), "cumulative": fmt(cum, 3)}
        groups: dict[str, float] = {}
        for (path, _ln, _fn), v in stats.stats.items():
            group = _group(path)
            groups[group] = groups.get(group, 0.0) + v[2]
        out[name]["own_time_by_package_ms_per_article"] = {
            g: round(t / max(archived, 1) * 1e3, 3)
            for g, t in sorted(groups.items(), key=lambda kv: -kv[1])}
        parts = BREAKDOWN[name]
        out[name]["breakdown_share"] = {
            label: round(sum(v[3] for (p, _ln, fn), v in stats.stats.items()
                             if fn == func and p.endswith(suffix)) / total, 3)
            for label, (suffix, func) in parts.items()}
    return out


# Where a crawl's CPU goes: cumulative time of these functions as a share of their thread.
BREAKDOWN = {
    "reactor_thread": {
        "spider: article callback (decode, parse, validate)": ("spiders/site.py", "parse_article"),
        "  of which parse_article (the parser)": ("parsers/article.py", "parse_article"),
        "spider: sitemap callbacks": ("spiders/site.py", "parse_sitemap"),
        "  of which known_article() lookups (one query per URL)": ("storage/articles.py",
                                                                   "known_article"),
        "start-up: imports": ("<frozen importlib._bootstrap>", "_find_and_load"),
    },
    "writer_threads": {
        "archive.record_fetch (one transaction per article)": ("storage/fetches.py",
                                                               "record_fetch"),
        "  raw page: hash, compress, insert": ("storage/rawpages.py", "store_raw"),
        "  of which zstd compress": ("~", "<method 'compress' of "
                                          "'zstandard.backend_c.ZstdCompressor' objects>"),
        "  article row lock/insert": ("storage/articles.py", "article_for_update"),
        "  url bookkeeping": ("storage/articles.py", "touch_url"),
        "  INSERT .. ON CONFLICT helper": ("storage/rows.py", "insert_ignore"),
        "  ORM flush (unit of work)": ("sqlalchemy/orm/session.py", "_flush"),
        "  SQLite driver execute": ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    },
}


def _group(path: str) -> str:
    """Package a profiled function belongs to (C built-ins are charged as "builtins")."""
    if path == "~":
        return "builtins (C: lxml, sqlite3, zstd, json, ...)"
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0]
    for own in ("crawler/parsers", "crawler", "storage", "newsmon"):
        if f"/{own}/" in path:
            return own
    if "asyncio" in path:
        return "asyncio"
    return "python stdlib / other"


def _short(path: str) -> str:
    for marker in ("/site-packages/", f"{REPO_ROOT}/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "profile":
        print(json.dumps(profile(int(sys.argv[2])), indent=1))
    else:
        out = run(quick="--quick" in sys.argv)
        print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2))
