"""Web server latency under load: `newsmon serve` over the synthetic archive, 8 clients.

    python -m bench.web_bench --articles 100000      # the README figures (generates once)
    python -m bench.web_bench --articles 2000        # smoke run

The server runs as a real process, started as `newsmon serve` starts it (its default worker
count), on the archive bench/gen_archive.py makes (shared with bench/query_bench.py). The
clients run in a process of their own: CLIENTS asyncio connections with keep-alive, each
sending its next request as soon as the previous answer is read (closed loop, no think
time), so latency is what a request waits for under 8 requests in flight. The client is
plain sockets and a minimal HTTP/1.1 reader because the machine has 2 cores: an httpx
client in threads took a large share of the CPU the server was measured with; its CPU time is
reported beside the server's.

Requests are drawn in random order from each kind: the changes page (first page, field
filters, a later keyset page), an article page (2,000 articles drawn from the whole archive,
so each is seldom asked twice), the diff between the last two versions of a long article,
a search page, and each Atom feed (all changes, per field kind, new articles, per article,
per search). Before the timed pass, each client connection asks every path of the kinds the
server caches (diffs per version pair, rendered feeds and change pages per archive state) once
and a few of the others: a connection stays with one server worker, and each worker process
has caches of its own, so every worker is warm, as in a server that has run a while. Reports
p50 / p95 per kind (wall time at the client, full 200 responses, no conditional requests),
CPU seconds of the client, the server and the rest of the machine (the database server,
other users) during the timed pass, the 1-minute load average sampled every second, and how
many times the archive state the server's caches are keyed by changed meanwhile.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
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
# Kinds the server caches (per version pair, or per archive state): warmed path by path.
CACHED_KINDS = ("changes", "diff", "feed")
ARTICLE_PATHS = 2000
LONG_ARTICLES = 200


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
            top = conn.scalar(text("SELECT max(id) FROM articles")) or 1
            ids = rng.sample(range(1, top + 1), min(top, ARTICLE_PATHS))
            # Long articles with several versions: the diff a reader opens most.
            long_changed = [r[0] for r in conn.execute(text(
                "SELECT a.id FROM articles a JOIN article_versions v ON "
                "v.article_id = a.id AND v.version = a.current_version WHERE "
                f"a.current_version > 1 ORDER BY v.word_count DESC LIMIT {LONG_ARTICLES}"))]
            deep = conn.execute(text(
                "SELECT id FROM article_versions WHERE version > 1 ORDER BY id DESC "
                "LIMIT 1 OFFSET 2000")).scalar()
    finally:
        engine.dispose()
    return {
        "changes": ["/", "/?field=title", "/?field=paywall", "/?field=body",
                    f"/?before={deep or 1}"],
        "article": [f"/articles/{i}" for i in ids],
        "diff": [f"/articles/{i}/diff" for i in long_changed],
        "search": [f"/search?q={quote(q)}" for q in SEARCHES],
        "feed: changes": ["/feeds/changes.atom"],
        **{f"feed: {f}": [f"/feeds/changes.atom?field={f}"] for f in FEED_FIELDS},
        "feed: new": ["/feeds/new.atom"],
        "feed: article": [f"/feeds/articles/{i}.atom" for i in long_changed],
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


# -- the client (a process of its own) -------------------------------------------------------


async def _get(reader, writer, host: str, path: str) -> int:
    """One GET on a kept-alive connection; the status once the whole body is read."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:]
                                                             if x)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


class _Connection:
    """One kept-alive client connection; reopened when the server has closed it while it was
    idle (uvicorn closes keep-alive connections idle for 5 s, as during the warm-up of the
    other connections)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str) -> int:
        try:
            return await _get(self.reader, self.writer, f"{self.host}:{self.port}", path)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            self.close()
            await self.open()
            return await _get(self.reader, self.writer, f"{self.host}:{self.port}", path)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _drive(host: str, port: int, warm: list[str], work: list[str], clients: int,
                 ready) -> list:
    """Each client connection first asks every `warm` path (a connection stays with one
    server worker, and each worker has caches of its own), then, once `ready()` returns, the
    shared `work` list is served back to back."""
    position = iter(range(len(work)))
    results: list = [None] * len(work)
    connections = [_Connection(host, port) for _ in range(clients)]

    async def warm_up(connection: _Connection) -> None:
        await connection.open()
        for path in warm:
            status = await connection.get(path)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")

    async def client(connection: _Connection) -> None:
        for index in position:
            start = time.perf_counter()
            status = await connection.get(work[index])
            results[index] = (status, (time.perf_counter() - start) * 1000)

    try:
        await asyncio.gather(*(warm_up(c) for c in connections))
        await asyncio.get_running_loop().run_in_executor(None, ready)
        await asyncio.gather(*(client(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return results


def _client_process(host: str, port: int, warm: list[str], work: list[str], clients: int,
                    pipe) -> None:
    def ready() -> None:
        pipe.send("warm")
        pipe.recv()  # "go": the parent has taken its CPU and load readings

    try:
        cpu = 0.0

        def timed_ready() -> None:
            nonlocal cpu
            ready()
            cpu = time.process_time()

        results = asyncio.run(_drive(host, port, warm, work, clients, timed_ready))
        pipe.send((results, time.process_time() - cpu))
    except Exception as exc:  # noqa: BLE001 - reported by the parent
        pipe.send(RuntimeError(f"client: {exc}"))
    pipe.close()


class _Clients:
    """The client process: warms up on start, measures from go() until results()."""

    def __init__(self, host: str, port: int, warm: list[str], work: list[str], clients: int):
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._proc = context.Process(target=_client_process,
                                     args=(host, port, warm, work, clients, child))
        self._proc.start()
        child.close()

    def _receive(self):
        message = self._pipe.recv()
        if isinstance(message, Exception):
            self._proc.join()
            raise message
        return message

    def warmed(self) -> None:
        self._receive()

    def go(self) -> None:
        self._pipe.send("go")

    def results(self) -> tuple[list, float]:
        """[(status, ms)] per request of `work`, and the client's CPU seconds after go()."""
        results, cpu = self._receive()
        self._proc.join()
        return results, cpu


# -- the server and the machine --------------------------------------------------------------


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of process `root` and its descendants, alive now."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class _LoadSampler:
    """The 1-minute load average every second, and how often the archive state the server's
    caches depend on changed (newsmon/web/cache.py, read here every 0.1 s: on a PostgreSQL
    server shared with other writers, their commits count too), while the timed pass runs."""

    def __init__(self, db_url: str):
        from newsmon.web.cache import ArchiveState
        from newsmon.web.db import readonly_engine

        self.samples: list[float] = []
        self.state_changes = 0
        self._engine = readonly_engine(db_url)
        self._state = ArchiveState(self._engine)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last, tick = self._state.token(), 0
        while not self._stop.wait(0.1):
            token = self._state.token()
            self.state_changes += token != last
            last, tick = token, tick + 1
            if tick % 10 == 0:
                self.samples.append(os.getloadavg()[0])

    def __enter__(self):
        self.samples.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])
        self._state.close()
        self._engine.dispose()

    def summary(self) -> dict:
        return {"start": round(self.samples[0], 2), "end": round(self.samples[-1], 2),
                "max": round(max(self.samples), 2),
                "mean": round(sum(self.samples) / len(self.samples), 2),
                "archive_state_changes": self.state_changes}


class _Server:
    def __init__(self, db_url: str):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsmon", "serve", "--db", db_url, "--port", str(self.port)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait(self, client) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"newsmon serve exited: {self.proc.stderr.read()[-2000:]}")
            try:
                if client.get(self.base + "/runs").status_code == 200:
                    return
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.3)
        raise RuntimeError("newsmon serve did not start within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


def _warm_paths(targets: dict[str, list[str]]) -> list[str]:
    """Every path of the kinds the server caches, a few of the others (imports, plans)."""
    paths = []
    for kind, kind_paths in targets.items():
        paths += kind_paths if kind.split(":")[0] in CACHED_KINDS else kind_paths[:3]
    return paths


def measure(url: str, *, per_kind: int, clients: int = CLIENTS, seed: int = 1,
            paths_per_kind: int | None = None) -> dict:
    """p50/p95 per kind of request, `per_kind` requests of each under `clients` clients
    (drawn from at most `paths_per_kind` different paths of each kind), with the CPU time
    and load average of the timed pass."""
    import httpx

    rng = random.Random(seed)
    targets = {kind: paths[:paths_per_kind] for kind, paths in _targets(url, rng).items()
               if paths}
    work = [(kind, rng.choice(paths)) for kind, paths in targets.items()
            for _ in range(per_kind)]
    rng.shuffle(work)
    server = _Server(url)
    try:
        with httpx.Client(timeout=60) as probe:
            server.wait(probe)
        clients_proc = _Clients("127.0.0.1", server.port, _warm_paths(targets),
                                [path for _, path in work], clients)
        clients_proc.warmed()
        with _LoadSampler(url) as load:
            server_cpu, busy = _tree_cpu(server.proc.pid), _machine_busy()
            start = time.perf_counter()
            clients_proc.go()
            results, client_cpu = clients_proc.results()
            seconds = time.perf_counter() - start
            server_cpu = _tree_cpu(server.proc.pid) - server_cpu
            busy = _machine_busy() - busy
    finally:
        server.stop()
    samples: dict[str, list[float]] = {kind: [] for kind in targets}
    errors = []
    for (kind, path), (status, ms) in zip(work, results, strict=True):
        if status == 200:
            samples[kind].append(ms)
        else:
            errors.append(f"{path}: {status}")
    return {"clients": clients, "requests": len(work), "seconds": round(seconds, 1),
            "requests_per_s": round(len(work) / seconds, 1), "errors": errors[:10],
            "cpu_s": {"client": round(client_cpu, 1), "server": round(server_cpu, 1),
                      "rest": round(max(0.0, busy - client_cpu - server_cpu), 1),
                      "available": round(seconds * (os.cpu_count() or 1), 1)},
            "load": load.summary(),
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
        cpu, load = fig["cpu_s"], fig["load"]
        lines.append(f"\n{backend}: {fig['requests']} requests in {fig['seconds']} s "
                     f"({fig['requests_per_s']}/s){errors}\n  CPU s: server {cpu['server']}, "
                     f"client {cpu['client']}, rest of the machine {cpu['rest']} (of "
                     f"{cpu['available']}); load average {load['start']} -> {load['end']}, "
                     f"mean {load['mean']}, max {load['max']}; archive state changed "
                     f"{load['archive_state_changes']} times")
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
