"""Web server latency under load: `newsmon serve` over the synthetic archive, 8 clients.

    python -m bench.web_bench --articles 100000      # the README figures (generates once)
    python -m bench.web_bench --articles 2000        # smoke run

The server runs as a real process (uvicorn, one process, as `newsmon serve` starts it) on
the archive bench/gen_archive.py makes (shared with bench/query_bench.py). CLIENTS threads,
each with its own HTTP connection, send requests back to back, drawn in random order from
each kind: the changes page (first page, a field filter, a later keyset page), an article
page, the diff between the last two versions of a long article, a search page, and each
Atom feed (all changes, per field kind, new articles, per article, per search). One warm-up
pass first (the server's caches: diff per version pair, rendered feed entries). Reports p50 /
p95 per kind, wall time from the client; target p95 < 100 ms. Full responses (200), no
conditional requests.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from bench.gen_archive import benchmark_main, measure_backends
from bench.query_bench import SEARCHES

REPO = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 100.0
CLIENTS = 8
FEED_FIELDS = ("title", "lead", "body", "authors", "dates", "paywall")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _targets(url: str, rng: random.Random) -> dict[str, list[str]]:
    """Paths to request, by kind, for the archive at `url`."""
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text(
                "SELECT article_id FROM articles ORDER BY id LIMIT 20000"))]
            # Long articles with several versions: the diff a reader opens most.
            long_changed = [r[0] for r in conn.execute(text(
                "SELECT a.article_id FROM articles a JOIN article_versions v ON "
                "v.article_id = a.id AND v.version = a.current_version WHERE "
                "a.current_version > 1 ORDER BY v.word_count DESC LIMIT 200"))]
            deep = conn.execute(text(
                "SELECT id FROM article_versions WHERE version > 1 ORDER BY id DESC "
                "LIMIT 1 OFFSET 2000")).scalar()
    finally:
        engine.dispose()
    rng.shuffle(ids)
    return {
        "changes": ["/", "/?field=title", "/?field=paywall", "/?field=body",
                    f"/?before={deep or 1}"],
        "article": [f"/articles/{i}" for i in ids[:200]],
        "diff": [f"/articles/{i}/diff" for i in long_changed[:60]],
        "search": [f"/search?q={quote(q)}" for q in SEARCHES],
        "feed: changes": ["/feeds/changes.atom"],
        **{f"feed: {f}": [f"/feeds/changes.atom?field={f}"] for f in FEED_FIELDS},
        "feed: new": ["/feeds/new.atom"],
        "feed: article": [f"/feeds/articles/{i}.atom" for i in long_changed[:60]],
        "feed: search": [f"/feeds/search.atom?q={quote(q)}" for q in SEARCHES],
    }


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    p95 = pick(0.95)
    return {"p50_ms": round(pick(0.5), 1), "p95_ms": round(p95, 1), "n": len(ordered),
            "max_ms": round(ordered[-1], 1), "target_ms": TARGET_P95_MS,
            "ratio": round(p95 / TARGET_P95_MS, 3)}


class _Server:
    def __init__(self, db_url: str):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsmon", "serve", "--db", db_url, "--port", str(self.port)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait(self, client) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"newsmon serve exited: {self.proc.stderr.read()[-2000:]}")
            try:
                if client.get(self.base + "/api/stats").status_code == 200:
                    return
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.3)
        raise RuntimeError("newsmon serve did not start within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure(url: str, *, per_kind: int, clients: int = CLIENTS, seed: int = 1,
            paths_per_kind: int | None = None) -> dict:
    """p50/p95 per kind of request, `per_kind` requests of each under `clients` clients
    (drawn from at most `paths_per_kind` different paths of each kind)."""
    import httpx

    rng = random.Random(seed)
    targets = {kind: paths[:paths_per_kind] for kind, paths in _targets(url, rng).items()
               if paths}
    server = _Server(url)
    try:
        with httpx.Client(timeout=60) as probe:
            server.wait(probe)
            for paths in targets.values():  # warm-up: every path once
                for path in paths:
                    response = probe.get(server.base + path)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: HTTP {response.status_code}")
        work = [(kind, rng.choice(paths)) for kind, paths in targets.items()
                for _ in range(per_kind)]
        rng.shuffle(work)
        samples: dict[str, list[float]] = {kind: [] for kind in targets}
        errors: list[str] = []
        lock = threading.Lock()
        position = iter(range(len(work)))

        def client() -> None:
            with httpx.Client(timeout=60) as http:
                while True:
                    with lock:
                        index = next(position, None)
                    if index is None:
                        return
                    kind, path = work[index]
                    start = time.perf_counter()
                    response = http.get(server.base + path)
                    elapsed = (time.perf_counter() - start) * 1000
                    with lock:
                        if response.status_code == 200:
                            samples[kind].append(elapsed)
                        else:
                            errors.append(f"{path}: {response.status_code}")

        start = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
    finally:
        server.stop()
    return {"clients": clients, "requests": len(work), "seconds": round(seconds, 1),
            "requests_per_s": round(len(work) / seconds, 1), "errors": errors[:10],
            "kinds": {kind: _percentiles(s) for kind, s in samples.items() if s}}


def run(quick: bool = False, *, articles: int | None = None,
        backends=("sqlite", "postgresql"), per_kind: int | None = None,
        progress: bool = True) -> dict:
    """Generate (once) and measure on each backend. Returns {"date", "articles", "backends":
    {name: measure() figures or {"skipped"}}}."""
    articles = articles or (2000 if quick else 100_000)
    per_kind = per_kind or (8 if quick else 150)

    def figures(url: str, _generated: dict) -> dict:
        try:
            return measure(url, per_kind=per_kind, paths_per_kind=3 if quick else None)
        except (RuntimeError, ImportError) as exc:
            return {"skipped": str(exc).splitlines()[0][:300]}

    return measure_backends(backends, articles, figures,
                            {"per_kind": per_kind, "clients": CLIENTS}, progress)


def format_report(report: dict) -> str:
    lines = [f"newsmon web benchmark, {report['date']}, {report['articles']:,} articles, "
             f"{report['clients']} clients, {report['per_kind']} requests per kind, "
             f"{report['machine']}, load {report['load_before']} -> {report['load_after']}"]
    for backend, fig in report["backends"].items():
        if "skipped" in fig:
            lines.append(f"\n{backend}: skipped ({fig['skipped']})")
            continue
        errors = f"; errors: {', '.join(fig['errors'])}" if fig["errors"] else ""
        lines.append(f"\n{backend}: {fig['requests']} requests in {fig['seconds']} s "
                     f"({fig['requests_per_s']}/s){errors}")
        for kind, f in fig["kinds"].items():
            verdict = "ok" if f["p95_ms"] <= TARGET_P95_MS else "OVER TARGET"
            lines.append(f"  {kind:<16} p50 {f['p50_ms']:>7.1f} ms   p95 {f['p95_ms']:>7.1f} ms"
                         f"   max {f['max_ms']:>7.1f} ms  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return benchmark_main(argv, __doc__, run, format_report, "--per-kind",
                          "requests per kind (default 150)")


if __name__ == "__main__":
    sys.exit(main())
