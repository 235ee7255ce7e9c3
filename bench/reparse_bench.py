"""Re-parse throughput (`newsmon reparse`, issue 14): versions re-parsed per second, and where
the CPU goes (reading the stored pages, decompressing, parsing in the worker processes,
writing), on a SQLite archive of replica pages.

The query benchmark's archive (bench/gen_archive.py) holds generated records without raw
pages, so there is nothing to re-parse in it. This benchmark builds its own: a generated
replica site (`ReplicaSite.generated(n)`, pages of ~155 KB), every article fetched and
archived through the crawl's write path (Archive.record_fetch with the parser's record),
then edited and archived again for about 2.4 versions per article, like gen_archive's mix.
The archive is built with a deliberately broken caption selector and kept in var/bench/.

Two figures, each on a fresh copy of that archive, 3 runs each, the real command's code
(newsmon.reparse with one worker process per CPU, batches of 40 articles):
- unchanged: re-parsed with the settings it was built with: every record compared, none
  written (the no-op a routine re-parse mostly is);
- corrected: re-parsed with the shipped profile: every version's record is replaced (the
  caption appears), the old one kept as a superseded record, summaries and events redone.
Versions/s is over the whole command's wall time, worker start-up included; CPU per version
(this process and the workers) says what the cores allow when nothing else runs.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import REPO_ROOT, row, summary

TARGET_PER_S = 300.0
EDIT_SHARES = (0.6, 0.45, 0.3, 0.15)  # articles edited before the 2nd, 3rd, ... fetch
BROKEN = '[selectors]\nimage_caption = "p.article--media--leed"\n'


def _config(root: Path, broken: bool) -> Path:
    (root / "sites").mkdir(parents=True, exist_ok=True)
    (root / "sites" / "rp.toml").write_text(BROKEN if broken else "", encoding="utf-8")
    return root


def _use(folder: Path) -> None:
    """This process and the workers it spawns read the profile from `folder`."""
    from crawler import config
    from crawler.parsers.profile import profile_variants

    os.environ["NEWSMON_CONFIG_DIR"] = str(folder)
    config.reload()
    profile_variants.cache_clear()


def build(path: Path, articles: int, config_root: Path, progress: bool = True) -> int:
    """The benchmark archive at `path` (reused when it exists); its number of versions."""
    from sqlalchemy import func, select

    from crawler.parsers import load_profile, parse_article
    from storage import Archive
    from storage.models import ArticleVersion
    from tests.replica import ReplicaSite

    if not path.exists():
        _use(_config(config_root / "broken", broken=True))
        parser = load_profile("rp")
        site = ReplicaSite.generated(articles)
        live = [a.article_id for a in site.live_articles()][:articles]
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        when = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
        with Archive.open(f"sqlite:///{tmp}") as archive:
            for round_, share in enumerate((1.0, *EDIT_SHARES)):
                chosen = live[:max(1, int(len(live) * share))]
                for n, aid in enumerate(chosen):
                    if round_:
                        a = site.article(aid)
                        site.edit_title(aid, f"{a.title.split(' [')[0]} [{round_}]")
                    article = site.article(aid)
                    url = article.url("https://www.rp.pl")
                    html = site.render(article).encode("utf-8")
                    record = parse_article(html, url=url, site=parser).to_dict()
                    record["parser_fingerprint"] = parser.fingerprint
                    archive.record_fetch(None, "rp", aid, url, record, html,
                                         content_type="text/html; charset=utf-8",
                                         fetched_at=when + timedelta(days=round_, seconds=n))
                if progress:
                    print(f"\r  building: fetch round {round_ + 1}", end="", file=sys.stderr,
                          flush=True)
        with closing(sqlite3.connect(tmp)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tmp.rename(path)
        if progress:
            print(file=sys.stderr)
    with Archive.open(f"sqlite:///{path}") as archive, archive.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(ArticleVersion))


def _run_once(source: Path, work: Path, broken: bool, config_root: Path) -> dict:
    from newsmon.reparse import Options, reparse
    from storage import Archive

    copy = work / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, copy)
    _use(_config(config_root / ("broken" if broken else "fixed"), broken=broken))
    with Archive.open(f"sqlite:///{copy}") as archive:
        start, main_cpu = time.perf_counter(), time.process_time()
        report = reparse(archive, Options())
        wall, main_cpu = time.perf_counter() - start, time.process_time() - main_cpu
        problems = archive.check()
    if problems:
        raise RuntimeError(f"db check after re-parse: {problems[:3]}")
    versions = report.counts["pages"]
    # CPU of this process (reading, writing, feeding the pool) and of the workers.
    cpu = main_cpu + report.cpu["decompress"] + report.cpu["parse"]
    return {"versions": versions, "changed": report.counts["changed"],
            "seconds": round(wall, 3), "per_s": versions / wall,
            "cpu_ms": cpu / versions * 1e3, "shares": report.shares(), "cpu": report.cpu}


def run(quick: bool = False, articles: int | None = None, rounds: int | None = None,
        progress: bool = True) -> dict:
    articles = articles or (40 if quick else 1000)
    rounds = rounds or (1 if quick else 3)
    saved = os.environ.get("NEWSMON_CONFIG_DIR")
    with tempfile.TemporaryDirectory(prefix="newsmon-reparse-bench-") as tmp:
        tmp = Path(tmp)
        cache = REPO_ROOT / "var" / "bench" if not quick else tmp
        cache.mkdir(parents=True, exist_ok=True)
        source = cache / f"reparse-{articles}.db"
        try:
            versions = build(source, articles, tmp, progress)
            figures = {}
            for name, broken in (("unchanged", True), ("corrected", False)):
                runs = [_run_once(source, tmp, broken, tmp) for _ in range(rounds)]
                figures[name] = {
                    "per_s": summary([r["per_s"] for r in runs], 1),
                    "seconds": summary([r["seconds"] for r in runs], 2),
                    "changed": runs[-1]["changed"],
                    "cpu_ms_per_version": summary([r["cpu_ms"] for r in runs], 2),
                    # What the CPU per version allows on this machine's cores when nothing
                    # else runs (the wall-time figure is at the mercy of other load).
                    "cpu_bound_per_s": summary([(os.cpu_count() or 1) * 1e3 / r["cpu_ms"]
                                                for r in runs], 1),
                    "shares": {k: round(sum(r["shares"][k] for r in runs) / len(runs), 3)
                               for k in runs[0]["shares"]},
                }
        finally:
            if saved is None:
                os.environ.pop("NEWSMON_CONFIG_DIR", None)
            else:
                os.environ["NEWSMON_CONFIG_DIR"] = saved
            from crawler import config

            config.reload()
    result = {"articles": articles, "versions": versions, "workers": os.cpu_count(),
              "figures": figures}
    result["rows"] = _rows(result)
    return result


def _rows(result: dict) -> list[dict]:
    rows = []
    for name, fig in result["figures"].items():
        shares = fig["shares"]
        what = ("records compared, none written" if name == "unchanged"
                else f"{fig['changed']:,} records corrected")
        rows.append(row("reparse", f"SQLite: versions/s, {name} ({result['versions']:,} "
                                   f"versions, {what}; CPU: read {shares['read']:.0%}, "
                                   f"decompress {shares['decompress']:.0%}, parse "
                                   f"{shares['parse']:.0%}, write {shares['write']:.0%})",
                        fig["per_s"], "versions/s", f">= {TARGET_PER_S:g}",
                        fig["per_s"]["median"] >= TARGET_PER_S, 0))
        rows.append(row("reparse", f"SQLite: CPU per version, {name} (all processes; "
                                   f"{result['workers']} cores allow "
                                   f"{fig['cpu_bound_per_s']['median']:,.0f} versions/s)",
                        fig["cpu_ms_per_version"], "ms"))
    return rows


if __name__ == "__main__":
    import json

    quick = "--quick" in sys.argv
    print(json.dumps(run(quick), indent=2, default=str))
