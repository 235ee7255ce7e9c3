"""The replica for the crawl benchmarks, in a process of its own: its rendering would otherwise
share the crawl's interpreter and GIL. It pre-renders every article page before the crawl
starts, so that during the crawl it only copies bytes, and reports its request log and CPU time
at /__bench/stats.

    python -m bench.replica_proc 2000        # what Replica(2000) starts
    python -m bench.replica_proc 1000 460    # Replica(1000, weight_kb=460): real-weight pages
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import subprocess
import sys
import time
import urllib.request

from bench import REPO_ROOT

ARTICLE_PATH = re.compile(r"^/dyplomacja/art\d+")


def serve(n: int, weight_kb: int | None = None) -> None:
    """Serve a generated site of `n` articles with every article page pre-rendered; print one
    JSON line with the base URL once ready; stop when stdin closes. With `weight_kb`, article
    pages are brought up to that weight with mixed furniture (real rp.pl pages: 450-500 KB)."""
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
    if weight_kb:
        site.min_page_bytes, site.padding = weight_kb * 1024, "mixed"
    server = BenchServer(site).start()
    pages = {}
    for a in site.live_articles():
        snap = a.snapshot()
        html = render.rebase(render.article_page(site, snap), server.base_url)
        pages[a.article_id] = (f'"{snap.fingerprint()}"', snap.last_modified,
                               html.encode("utf-8"))
    BenchServer.pages = pages
    sizes = sorted(len(p[2]) for p in pages.values())
    print(json.dumps({"base_url": server.base_url, "articles": len(pages),
                      "page_kb": round(sizes[len(sizes) // 2] / 1024, 1),
                      "prerender_s": round(time.perf_counter() - started, 2)}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


class Replica:
    """The replica process seen from the benchmark."""

    def __init__(self, n: int, weight_kb: int | None = None):
        self.n = n
        args = [str(n)] + ([str(weight_kb)] if weight_kb else [])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.replica_proc", *args],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"the replica process for {n} articles did not start")
        info = json.loads(line)
        self.base_url, self.articles = info["base_url"], info["articles"]
        self.prerender_s = info["prerender_s"]
        self.page_kb = info["page_kb"]  # median article page

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



if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
