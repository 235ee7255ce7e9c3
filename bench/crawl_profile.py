"""Where a crawl's CPU goes: one crawl of the replica in this process under cProfile, per
thread (the reactor thread: Scrapy, discovery, parsing; the archive writer threads: versioning,
compression, SQL), with own time by package and the share of the main steps.

    python -m bench.crawl_profile 1000    # also: python -m bench.crawl_bench profile 1000
    python -m bench.crawl_profile 1000 460    # on real-weight pages (460 KB)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO_ROOT
from bench.crawl_bench import CRAWL_SETTINGS, bench_config_dir
from bench.replica_proc import Replica


def profile(n: int, top: int = 25, weight_kb: int | None = None) -> dict:
    """One crawl of `n` articles in this process under cProfile, timed in per-thread CPU time:
    the reactor thread (Scrapy, discovery, parsing) and the archive writer threads (versioning,
    compression, SQL) are profiled separately, since the pipeline writes in worker threads."""
    import cProfile
    import pstats
    import threading

    from crawler.pipelines import ArchivePipeline
    from newsmon.crawl import run_crawl

    local, writers = threading.local(), []
    original = ArchivePipeline._write_batch

    def profiled_write(self, batch):
        prof = getattr(local, "prof", None)
        if prof is None:
            prof = local.prof = cProfile.Profile(time.thread_time)
            writers.append(prof)
        prof.enable()
        try:
            return original(self, batch)
        finally:
            prof.disable()

    ArchivePipeline._write_batch = profiled_write
    with (tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmpdir,
          Replica(n, weight_kb) as replica):
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
        "archive.record_fetch (per article, batched transactions)": ("storage/fetches.py",
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
    weight = int(sys.argv[2]) if len(sys.argv) > 2 else None
    print(json.dumps(profile(int(sys.argv[1]), weight_kb=weight), indent=1))
