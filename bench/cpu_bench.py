"""CPU per archived article, side by side in one run (issue 16): the Scrapy fetch-only floor,
a peer stack (Scrapy + trafilatura + a plain SQLite pipeline, bench/peer_spiders.py), and
`newsmon crawl` on SQLite and on PostgreSQL, each a process of its own against the same
replica process, politeness off (bench/crawl_bench.py's settings), on replica pages (~154 KB)
and on real-weight pages (~460 KB, like real rp.pl pages).

CPU is user + system time of the crawl process and of every process it started and waited for
(the growth of this process's RUSAGE_CHILDREN over the crawl: the replica process is reaped
only at the end). A round runs floor, SQLite, floor, PostgreSQL, floor, then the other
yardsticks; each newsmon / floor ratio is taken against the mean of the two floor crawls on
either side of that newsmon crawl, so that the machine's speed drifting during a round hits
both sides of the ratio alike. The floor keeps Scrapy's defaults; a second floor
with newsmon's CONCURRENT_ITEMS (crawler/settings.py) shows how much of the gap that one
setting closes, and newsmon's ratio to it is shown next to the judged one.

    python -m bench --only cpu          # or python -m bench.cpu_bench [--quick]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO_ROOT, row, summary
from bench.crawl_bench import bench_config_dir, crawl
from bench.databases import pg_available, pg_db, sqlite_db
from bench.replica_proc import Replica

TARGET_SQLITE = 3.0  # newsmon CPU per article / floor, real-weight pages
TARGET_PG = 3.5
WEIGHTS = {"replica": None, "real weight": 460}  # page weight (KB) the replica pads up to


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def yardstick(kind: str, base_url: str, tmp: Path) -> dict:
    """One floor or peer crawl process: articles and CPU per article. "floor_items": the floor
    with newsmon's CONCURRENT_ITEMS instead of Scrapy's default."""
    db = tmp / f"{kind}.db"
    db.unlink(missing_ok=True)
    args = [sys.executable, "-m", "bench.peer_spiders", kind, base_url, str(db)]
    if kind == "floor_items":
        from crawler.settings import CONCURRENT_ITEMS

        args[3:4] = ["floor"]
        args.append(str(CONCURRENT_ITEMS))
    cpu0 = _children_cpu()
    proc = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True)
    cpu = _children_cpu() - cpu0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{kind} spider failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    db.unlink(missing_ok=True)
    articles = json.loads(lines[-1])["articles"]
    return {"articles": articles, "cpu_s": cpu, "cpu_ms": cpu / max(articles, 1) * 1e3}


def newsmon(base_url: str, db_url: str, config_dir: Path) -> dict:
    cpu0 = _children_cpu()
    res = crawl(base_url, db_url, config_dir)
    cpu = _children_cpu() - cpu0
    articles = res["run"]["new_versions"]
    if res["exit"] or res["run"]["errors"]:
        raise RuntimeError(f"newsmon crawl failed: {res['run']}")
    return {"articles": articles, "cpu_s": cpu, "cpu_ms": cpu / max(articles, 1) * 1e3}


def measure(n: int, weight_kb: int | None, rounds: int, tmp: Path, config_dir: Path,
            peer_rounds: int, progress=None) -> dict:
    pg_reason = pg_available()
    runs: dict[str, list[dict]] = {"floor": [], "floor_items": [], "peer": [], "sqlite": [],
                                   "postgresql": []}
    floor_crawls: list[dict] = []
    # Per judged crawl and round: the floor it is measured against.
    judged_floors: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    with Replica(n, weight_kb) as replica:
        for i in range(rounds):
            # Each judged crawl runs between two floor crawls, and its ratio is to their mean:
            # the machine's speed drifting during a round (floor crawls of one run ranged
            # 5.1-7.9 ms) then weighs on both sides of each ratio alike.
            order = ["floor", "sqlite", "floor", "postgresql", "floor", "floor_items"]
            if pg_reason:
                order[3:5] = []
            if i < peer_rounds:
                order.append("peer")
            pair: list[dict] = []  # this round's floor crawls
            judged: list[str] = []  # judged crawls since the last floor crawl
            for name in order:
                if progress:
                    progress(f"{weight_kb or 'replica'} round {i + 1}: {name}")
                if name == "floor":
                    pair.append(yardstick(name, replica.base_url, tmp))
                    for done in judged:
                        judged_floors[done].append(
                            (pair[-2]["cpu_ms"] + pair[-1]["cpu_ms"]) / 2)
                    judged = []
                elif name in ("floor_items", "peer"):
                    runs[name].append(yardstick(name, replica.base_url, tmp))
                else:
                    with sqlite_db(tmp) if name == "sqlite" else pg_db() as db:
                        runs[name].append(newsmon(replica.base_url, db, config_dir))
                    judged.append(name)
            floor_crawls += pair
            runs["floor"].append({key: sum(r[key] for r in pair) / len(pair) for key in pair[0]})
        page_kb = replica.page_kb
    out: dict = {"page_kb": page_kb, "weight_kb": weight_kb, "articles": n, "rounds": rounds,
                 "runs": {k: [{kk: round(vv, 4) for kk, vv in r.items()} for r in v]
                          for k, v in runs.items()},
                 "floor_crawls": [round(r["cpu_ms"], 4) for r in floor_crawls]}
    for name, rs in runs.items():
        out[name] = summary([r["cpu_ms"] for r in rs]) if rs else {"skipped": pg_reason}
    for name, floors in judged_floors.items():
        if runs[name]:
            out[f"{name}_vs_floor"] = summary(
                [r["cpu_ms"] / f for r, f in zip(runs[name], floors, strict=True)])
    # Shown, not judged: against the floor with newsmon's CONCURRENT_ITEMS, run once a round.
    floors = [r["cpu_ms"] for r in runs["floor_items"]]
    for name in ("sqlite", "postgresql"):
        if runs[name]:
            out[f"{name}_vs_floor_items"] = summary(
                [r["cpu_ms"] / f for r, f in zip(runs[name], floors, strict=True)])
    return out


def run(quick: bool = False, progress=None, weights: dict | None = None, n: int | None = None,
        rounds: int | None = None, peer_rounds: int = 1) -> dict:
    """peer_rounds: trafilatura costs 100-250 ms per page, one round of the peer is minutes."""
    n = n or (40 if quick else 1000)
    rounds = rounds or (1 if quick else 3)
    weights = WEIGHTS if weights is None else weights
    result: dict = {"articles": n, "rounds": rounds, "peer_rounds": peer_rounds, "weights": {}}
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-cpu-") as tmpdir:
        tmp = Path(tmpdir)
        config_dir = bench_config_dir(tmp)
        for label, kb in weights.items():
            result["weights"][label] = measure(n, kb, rounds, tmp, config_dir, peer_rounds,
                                               progress)
    result["rows"] = rows(result)
    return result


def rows(res: dict) -> list[dict]:
    out = []
    for label, fig in res["weights"].items():
        pages = f"{label} pages, {fig['page_kb']:.0f} KB"
        real = fig["weight_kb"] is not None
        for name, title in (("floor", "Scrapy fetch only (floor)"),
                            ("floor_items", "floor with newsmon's CONCURRENT_ITEMS"),
                            ("peer", "peer: Scrapy + trafilatura + SQLite pipeline"),
                            ("sqlite", "newsmon (SQLite)"), ("postgresql", "newsmon (PostgreSQL)")):
            f = fig[name]
            if "skipped" in f:
                out.append(row("cpu", f"{pages}: {title}: skipped", None))
                continue
            out.append(row("cpu", f"{pages}: {title}, CPU per article", f, "ms CPU"))
        for name, target in (("sqlite", TARGET_SQLITE), ("postgresql", TARGET_PG)):
            r = fig.get(f"{name}_vs_floor")
            if not r:
                continue
            out.append(row("cpu", f"{pages}: newsmon ({name}) / floor", r, "x",
                           f"<= {target:g}" if real else "",
                           r["median"] <= target if real else None))
            # Against the floor with the Scrapy setting newsmon changes: shown, not judged.
            if r := fig.get(f"{name}_vs_floor_items"):
                out.append(row("cpu", f"{pages}: newsmon ({name}) / floor with its "
                                      "CONCURRENT_ITEMS", r, "x"))
            peer = fig["peer"]
            if peer.get("median"):
                ahead = fig[name]["median"] < peer["median"]
                out.append(row("cpu", f"{pages}: newsmon ({name}) / peer",
                               {"median": fig[name]["median"] / peer["median"]}, "x",
                               "< 1" if real else "", ahead if real else None, 3))
    return out


if __name__ == "__main__":
    started = time.perf_counter()
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.cpu_bench")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-n", type=int, help="articles (default 1000)")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--weight", choices=list(WEIGHTS), action="append")
    ap.add_argument("--peer-rounds", type=int, default=1)
    args = ap.parse_args()
    res = run(args.quick, lambda m: print(f"[cpu] {m}", file=sys.stderr, flush=True),
              {k: WEIGHTS[k] for k in args.weight} if args.weight else None, args.n,
              args.rounds, args.peer_rounds)
    from bench.__main__ import format_table

    print(json.dumps({k: v for k, v in res.items() if k != "rows"}, indent=1))
    print(format_table(res["rows"]))
    print(f"{time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.1f}")
