"""Parse cost: newsmon's parser against the physical floor (lxml.html parsing the same bytes and
nothing else) and against trafilatura.bare_extraction with metadata, on every article page of
the default replica site (~32 pages of >= 150 KB).

Each run times the three back to back over all pages, in CPU time (process_time: a
neighbour stealing the CPU inflates wall time but not this), and the ratios are taken within
the run, so machine noise affects numerator and denominator alike.
"""

from __future__ import annotations

import cProfile
import io
import logging
import pstats
import time

from bench import row, summary

TARGET_FLOOR_RATIO = 3.0  # newsmon <= 3x the floor
TARGET_PEER_SPEEDUP = 4.0  # and >= 4x faster than trafilatura


def replica_pages() -> list[tuple[str, bytes]]:
    """(url, page bytes) of every live article of the default replica site."""
    from tests.replica import ReplicaSite

    site = ReplicaSite.default()
    base = "https://www.rp.pl"
    return [(a.url(base), site.render(a, base).encode("utf-8")) for a in site.live_articles()]


def _floor(pages):
    import lxml.html

    for _, html in pages:
        lxml.html.fromstring(html)


def _newsmon(pages):
    from crawler.parsers import parse_article

    for url, html in pages:
        parse_article(html, url=url, site="rp")


def _trafilatura(pages):
    import trafilatura

    for url, html in pages:
        trafilatura.bare_extraction(html, url=url, with_metadata=True)


def _cpu(fn, pages) -> float:
    start = time.process_time()
    fn(pages)
    return time.process_time() - start


def profile_parser(pages, top: int = 18) -> list[dict]:
    """cProfile of newsmon's parser over all pages: the functions with most own time."""
    from crawler.parsers import parse_article

    prof = cProfile.Profile(time.process_time)  # CPU time: neighbours do not inflate it
    prof.enable()
    for url, html in pages:
        parse_article(html, url=url, site="rp")
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = sum(v[2] for v in stats.stats.values()) or 1.0
    rows = []
    for (path, line, name), (_cc, ncalls, tottime, cumtime, _) in stats.stats.items():
        rows.append({"function": f"{_short(path)}:{line}({name})", "calls": ncalls,
                     "own_ms_per_page": round(tottime / len(pages) * 1e3, 3),
                     "own_share": round(tottime / total, 3),
                     "cum_ms_per_page": round(cumtime / len(pages) * 1e3, 3)})
    rows.sort(key=lambda r: r["own_ms_per_page"], reverse=True)
    return rows[:top]


def _short(path: str) -> str:
    for marker in ("/crawler/", "/site-packages/", "/lib/python"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def run(quick: bool = False) -> dict:
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    pages = replica_pages()
    if quick:  # a smoke run: a quarter of the pages, two rounds
        pages = pages[::4]
    sizes = [len(h) for _, h in pages]
    # Warm-up: profile compilation, imports, lxml's parser pools.
    _newsmon(pages[:2])
    _trafilatura(pages[:2])
    _floor(pages[:2])
    runs = 2 if quick else 7
    n = len(pages)
    floor, ours, peer = [], [], []
    for _ in range(runs):
        floor.append(_cpu(_floor, pages) / n)
        ours.append(_cpu(_newsmon, pages) / n)
        peer.append(_cpu(_trafilatura, pages) / n)
    ratio_floor = [o / f for o, f in zip(ours, floor, strict=True)]
    peer_floor = [p / f for p, f in zip(peer, floor, strict=True)]
    speedup = [p / o for p, o in zip(peer, ours, strict=True)]
    ms = lambda xs: [x * 1e3 for x in xs]  # noqa: E731
    result = {
        "pages": n,
        "page_kb": {k: v for k, v in summary([s / 1024 for s in sizes], 1).items()
                    if k != "runs"},
        "runs": runs,
        "floor_ms": summary(ms(floor)),
        "newsmon_ms": summary(ms(ours)),
        "trafilatura_ms": summary(ms(peer)),
        "newsmon_x_floor": summary(ratio_floor, 3),
        "trafilatura_x_floor": summary(peer_floor, 3),
        "newsmon_speedup_vs_trafilatura": summary(speedup, 3),
        "targets": {"newsmon_x_floor_max": TARGET_FLOOR_RATIO,
                    "speedup_vs_trafilatura_min": TARGET_PEER_SPEEDUP},
        "profile": profile_parser(pages),
    }
    med = lambda key: result[key]["median"]  # noqa: E731
    result["rows"] = [
        row("parse", f"page size ({n} replica pages)", result["page_kb"], "KB", digits=0),
        row("parse", "lxml.html floor per page", result["floor_ms"], "ms CPU"),
        row("parse", "newsmon parse_article per page", result["newsmon_ms"], "ms CPU"),
        row("parse", "trafilatura bare_extraction per page", result["trafilatura_ms"], "ms CPU"),
        row("parse", "newsmon / floor", result["newsmon_x_floor"], "x",
            f"<= {TARGET_FLOOR_RATIO:g}", med("newsmon_x_floor") <= TARGET_FLOOR_RATIO),
        row("parse", "trafilatura / floor", result["trafilatura_x_floor"], "x"),
        row("parse", "trafilatura / newsmon", result["newsmon_speedup_vs_trafilatura"], "x",
            f">= {TARGET_PEER_SPEEDUP:g}",
            med("newsmon_speedup_vs_trafilatura") >= TARGET_PEER_SPEEDUP),
    ]
    return result


if __name__ == "__main__":
    import json
    import sys

    out = run(quick="--quick" in sys.argv)
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2))
