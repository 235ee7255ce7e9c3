"""`python -m bench [--quick]`: run every benchmark, print one table, write a JSON file.

Sections: parse (bench/parse_bench.py), crawl and incremental (bench/crawl_bench.py), cpu (CPU
per article against a Scrapy fetch-only floor and a trafilatura peer, bench/cpu_bench.py), storage
(bench/storage_bench.py), query (bench/query_bench.py, when present), web (bench/web_bench.py:
`newsmon serve` under 8 clients), reparse (bench/reparse_bench.py: `newsmon reparse` over an
archive of replica pages). See bench/README.md.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import REPO_ROOT, RESULTS_PATH, git_commit, row
from newsmon.progress import Steps

SECTIONS = ("parse", "crawl", "cpu", "storage", "query", "web", "reparse")


def _query(quick: bool) -> dict:
    try:
        from bench import query_bench
    except ImportError as exc:
        return {"skipped": f"bench/query_bench.py not importable: {exc}"}
    fn = getattr(query_bench, "run", None)
    if fn is None:
        return {"skipped": "bench/query_bench.py has no run(quick)"}
    kwargs = {}
    if quick:
        # A smoke run: a small generated archive, few calls (only what run() accepts).
        accepted = inspect.signature(fn).parameters
        wanted = {"articles": 300, "runs": 15, "progress": False}
        kwargs = {k: v for k, v in wanted.items() if k in accepted}
    elif "progress" in inspect.signature(fn).parameters:
        kwargs = {"progress": False}
    result = fn(quick, **kwargs)
    result["rows"] = _query_rows(result, query_bench)
    return result


def _query_rows(report: dict, module) -> list[dict]:
    p95_target = getattr(module, "TARGET_P95_MS", None)
    export_target = getattr(module, "TARGET_EXPORT_PER_S", None)
    rows = []
    for backend, fig in (report.get("backends") or {}).items():
        if "skipped" in fig:
            rows.append(row("query", f"{backend}: skipped ({fig['skipped']})", None))
            continue
        size = f"{fig.get('articles', report.get('articles', '?')):,} articles"
        for key, label in (("search", "full-text search"), ("listing", "filtered listing"),
                           ("show", "show one article")):
            f = fig.get(key)
            if not f:
                continue
            rows.append(row("query", f"{backend}: {label} p95 (p50 {f['p50_ms']} ms, {size})",
                            {"median": f["p95_ms"]}, "ms",
                            f"<= {p95_target:g}" if p95_target else "",
                            f["p95_ms"] <= p95_target if p95_target else None))
        e = fig.get("export")
        if e:
            rows.append(row("query", f"{backend}: export (jsonl, all versions)",
                            {"median": e["versions_per_s"]}, "versions/s",
                            f">= {export_target:g}" if export_target else "",
                            e["versions_per_s"] >= export_target if export_target else None, 0))
    return rows


def _web(quick: bool) -> dict:
    from bench import web_bench

    kwargs = {"articles": 300, "per_kind": 3} if quick else {}
    result = web_bench.run(quick, progress=False, **kwargs)
    rows = []
    for backend, fig in result["backends"].items():
        if "skipped" in fig:
            rows.append(row("web", f"{backend}: skipped ({fig['skipped']})", None))
            continue
        for kind, f in fig["kinds"].items():
            rows.append(row("web", f"{backend}: {kind} p95, {fig['clients']} clients (p50 "
                                   f"{f['p50_ms']} ms, {result['articles']:,} articles)",
                            {"median": f["p95_ms"]}, "ms", f"< {web_bench.TARGET_P95_MS:g}",
                            f["p95_ms"] < web_bench.TARGET_P95_MS))
    result["rows"] = rows
    return result


def _machine() -> dict:
    import lxml.etree

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
            "load_avg_start": [round(x, 2) for x in os.getloadavg()]}


def format_table(rows: list[dict]) -> str:
    def num(v, digits):
        if v is None:
            return ""
        return f"{v:,.{digits}f}"

    head = ["section", "figure", "median", "min", "max", "unit", "target", "met"]
    body = []
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
        body.append([r["section"], r["figure"], num(r["median"], r["digits"]),
                     num(r["min"], r["digits"]), num(r["max"], r["digits"]), r["unit"],
                     r["target"], met])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    right = {2, 3, 4}

    def line(cells):
        return "| " + " | ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if i in right else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|"
    return "\n".join([line(head), sep, *(line(b) for b in body)])


def format_compression(storage: dict) -> str:
    comp = storage.get("compression")
    if not comp:
        return ""
    lines = [f"Raw-page compression on {comp['test_pages']} replica pages of "
             f"{comp['raw_kb_per_page']} KB (dictionary: {comp['dictionary_kb']} KB, trained on "
             f"{comp['training_pages']} other pages):", "",
             "| method | KB/page | ratio | compress ms | decompress ms | est. KB/version |",
             "|---|--:|--:|--:|--:|--:|"]
    for name, m in comp["methods"].items():
        mark = " (chosen)" if name == comp["chosen"] else ""
        est = m.get("estimated_kb_per_version")
        lines.append(f"| {name}{mark} | {m['kb_per_page']:.1f} | {m['ratio']:.1f} | "
                     f"{m['compress_ms']['median']:.2f} | {m['decompress_ms']['median']:.2f} | "
                     f"{'' if est is None else f'{est:.1f}'} |")
    return "\n".join(lines)


def format_profile(parse: dict, top: int = 8) -> str:
    prof = parse.get("profile") or []
    if not prof:
        return ""
    lines = ["Parser profile (own time per page, top functions):", ""]
    lines += [f"  {p['own_ms_per_page']:7.3f} ms  {p['own_share'] * 100:5.1f}%  {p['function']}"
              for p in prof[:top]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="a small smoke run (well under a minute; figures not meaningful)")
    ap.add_argument("--only", action="append", choices=SECTIONS,
                    help="run only this section (repeatable)")
    ap.add_argument("--output", type=Path,
                    help="JSON file to write (default bench/results.json; with --quick "
                         "bench/results-quick.json, so a smoke run never replaces real figures)")
    ap.add_argument("--no-profile", action="store_true",
                    help="skip the profiled crawl of the full run")
    args = ap.parse_args(argv)
    sections = args.only or list(SECTIONS)
    output = args.output or (RESULTS_PATH.with_name("results-quick.json") if args.quick
                             else RESULTS_PATH)
    started = time.perf_counter()
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "quick": args.quick,
        "machine": _machine(),
        "sections": {},
    }
    out = results["sections"]
    archives: dict = {}

    def keep(backend):
        def measure(db_url, _first):
            from bench.storage_bench import measure_archive

            archives[backend] = measure_archive(db_url)
        return measure

    # On a terminal, a live display of the section running and how many are done (stderr;
    # elsewhere the `[bench] NAME ...` lines); stdout and the JSON file are unchanged.
    names = [s for s in SECTIONS if s in sections]
    if "crawl" in sections and not args.quick and not args.no_profile:
        names.insert(names.index("crawl") + 1, "crawl profile")
    with Steps("bench", names, fallback=_progress) as steps:
        step = steps.step
        if "parse" in sections:
            from bench import parse_bench

            step("parse")
            out["parse"] = parse_bench.run(args.quick)
        if "crawl" in sections:
            from bench import crawl_bench

            step("crawl")
            out["crawl"] = crawl_bench.run(args.quick, keep_sqlite=keep("sqlite"),
                                           keep_pg=keep("postgresql"))
            if not args.quick and not args.no_profile:
                step("crawl profile")
                from bench.crawl_profile import profile

                out["crawl"]["profile"] = profile(1000)
        if "cpu" in sections:
            from bench import cpu_bench

            step("cpu")
            out["cpu"] = cpu_bench.run(args.quick)
        if "storage" in sections:
            from bench import storage_bench

            step("storage")
            out["storage"] = storage_bench.run(args.quick, archives)
        if "query" in sections:
            step("query")
            out["query"] = _query(args.quick)
        if "web" in sections:
            step("web")
            out["web"] = _web(args.quick)
        if "reparse" in sections:
            from bench import reparse_bench

            step("reparse")
            out["reparse"] = reparse_bench.run(args.quick, progress=False)
    results["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.perf_counter() - started, 1)
    rows = [r for name in SECTIONS for r in (out.get(name) or {}).get("rows", [])]
    results["table"] = format_table(rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n",
                      encoding="utf-8")
    m = results["machine"]
    print(f"newsmon benchmark {results['date']} commit {results['commit']}"
          f"{' (quick: smoke run, figures not meaningful)' if args.quick else ''}; "
          f"{m['cpus']} CPUs, Python {m['python']}, load {m['load_avg_start'][0]} -> "
          f"{m['load_avg_end'][0]}; {results['seconds']} s")
    print()
    print(results["table"])
    for extra in (format_compression(out.get("storage") or {}),
                  format_profile(out.get("parse") or {})):
        if extra:
            print()
            print(extra)
    print(f"\nwritten: {_rel(output)}")
    return 0


def _progress(name: str) -> None:
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
