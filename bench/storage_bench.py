"""Storage cost: bytes on disk per archived version, with and without the raw HTML, the
raw-page compression the archive uses against plain gzip and zstd, and the CPU that alerts
(change events and outbox rows) add to archiving an article.

Three parts:
- `measure_archive(db_url)`: a real archive, the one the crawl benchmark's first crawl wrote
  (SQLite: file size after a WAL checkpoint, split by table with dbstat; PostgreSQL:
  pg_total_relation_size of every table, indexes and TOAST included).
- `compression(pages)`: every candidate on the same replica pages. The dictionary is trained
  the way the archive trains it (on the first pages stored, storage/compression.py) and
  measured on the pages after them, never on its own training set.
- `alerts_overhead()`: replica pages parsed and archived as two versions each (a new article,
  then its headline and text edited: every fetch makes a version, the worst case for alerts),
  with the alerts path (events derived in create_version, one subscription's outbox rows
  queued after each pass, as a crawl's exit does) and without it (storage.versions'
  record_version_events replaced by a no-op, for the benchmark only), into two archives
  article by article, so that both see the same machine load. The added CPU is set against
  parsing plus archiving an article, which is less than a whole crawl's CPU per article (no
  Scrapy, no network): the share is an upper bound of what alerts add to a crawl.
"""

from __future__ import annotations

import gzip
import time

import zstandard

from bench import row, summary

TARGET_KB_PER_VERSION = 40.0
TARGET_ALERTS_SHARE = 0.05  # events + outbox add at most 5% to an article's CPU
RAW_TABLES = ("raw_pages",)


# -- a real archive ------------------------------------------------------------------------

def measure_archive(db_url: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT count(*) FROM article_versions")).scalar()
            raw = conn.execute(text(
                "SELECT count(*), coalesce(sum(length(data)), 0), coalesce(sum(size), 0) "
                "FROM raw_pages")).one()
            kinds = dict(conn.execute(text(
                "SELECT compression, count(*) FROM raw_pages GROUP BY compression")).all())
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                page_size = conn.exec_driver_sql("PRAGMA page_size").scalar()
                page_count = conn.exec_driver_sql("PRAGMA page_count").scalar()
                total = page_size * page_count
                tables = _sqlite_tables(conn)
            else:
                tables = dict(conn.execute(text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r'")).all())
                total = sum(tables.values())
    finally:
        engine.dispose()
    raw_bytes = sum(v for k, v in tables.items() if k in RAW_TABLES)
    per = max(versions, 1)
    return {
        "backend": engine.dialect.name,
        "versions": versions,
        "raw_pages": raw[0],
        "raw_pages_by_compression": kinds,
        "raw_page_kb_uncompressed": round(raw[2] / max(raw[0], 1) / 1024, 2),
        "raw_page_kb_compressed": round(raw[1] / max(raw[0], 1) / 1024, 2),
        "total_bytes": total,
        "kb_per_version": round(total / per / 1024, 2),
        "kb_per_version_without_raw": round((total - raw_bytes) / per / 1024, 2),
        "tables_kb": {k: round(v / 1024, 1) for k, v in sorted(tables.items(),
                                                                 key=lambda kv: -kv[1])},
    }


def _sqlite_tables(conn) -> dict[str, int]:
    """Bytes per table, each table's indexes (and FTS shadow tables) counted with it."""
    rows = conn.exec_driver_sql("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").all()
    owner = dict(conn.exec_driver_sql(
        "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')").all())
    sizes: dict[str, int] = {}
    for name, size in rows:
        table = owner.get(name, name)
        sizes[table] = sizes.get(table, 0) + size
    return sizes


# -- compression candidates on the same pages ----------------------------------------------

def _codec_params() -> dict:
    try:
        from storage import compression as c
    except ImportError:  # before the dictionary codec existed
        return {"train": 64, "dict_size": 256 * 1024, "level": 3, "plain_level": 10,
                "train_params": {}}
    return {"train": c.TRAIN_SAMPLES, "dict_size": c.DICT_SIZE, "level": c.DICT_LEVEL,
            "plain_level": c.PLAIN_LEVEL, "train_params": getattr(c, "TRAIN_PARAMS", {}),
            "sample_bytes": getattr(c, "TRAIN_SAMPLE_BYTES", None)}


def _train(training: list[bytes], p: dict) -> zstandard.ZstdCompressionDict:
    try:
        from storage.compression import train_dictionary
    except ImportError:  # before the archive trained through this function
        return zstandard.train_dictionary(p["dict_size"], training, **p["train_params"])
    return train_dictionary(training, p["dict_size"])


def candidates(training: list[bytes]) -> dict:
    p = _codec_params()
    start = time.process_time()
    zdict = _train(training, p)
    train_s = round(time.process_time() - start, 3)
    out = {
        "gzip -6": (lambda b: gzip.compress(b, 6), gzip.decompress),
        "gzip -9": (lambda b: gzip.compress(b, 9), gzip.decompress),
    }
    for level in sorted({3, 10, p["plain_level"], 19}):
        comp = zstandard.ZstdCompressor(level=level)
        out[f"zstd -{level}"] = (comp.compress, zstandard.ZstdDecompressor().decompress)
    for level in sorted({p["level"], 3}):
        zd = zstandard.ZstdCompressionDict(zdict.as_bytes())
        zd.precompute_compress(level=level)
        comp = zstandard.ZstdCompressor(level=level, dict_data=zd)
        out[f"zstd -{level} + dictionary"] = (
            comp.compress, zstandard.ZstdDecompressor(dict_data=zd).decompress)
    return {"codecs": out, "chosen": f"zstd -{p['level']} + dictionary",
            "dict_kb": round(len(zdict.as_bytes()) / 1024, 1), "train_cpu_s": train_s, **p}


def compression(pages: list[bytes], train: int, runs: int) -> dict:
    training, test = pages[:train], pages[train:]
    cand = candidates(training)
    results = {}
    for name, (comp, decomp) in cand["codecs"].items():
        # zstd -19 costs ~0.2 s a page: sizes from a subset, one timing run.
        sample = test[:24 if runs > 2 else 4] if name == "zstd -19" else test
        n_runs = 1 if name == "zstd -19" else runs
        c_ms, d_ms, size = [], [], 0
        for _ in range(n_runs):
            start = time.process_time()
            blobs = [comp(p) for p in sample]
            c_ms.append((time.process_time() - start) / len(sample) * 1e3)
            start = time.process_time()
            for b in blobs:
                decomp(b)
            d_ms.append((time.process_time() - start) / len(sample) * 1e3)
            size = sum(map(len, blobs))
        raw = sum(map(len, sample))
        results[name] = {"kb_per_page": round(size / len(sample) / 1024, 2),
                         "ratio": round(raw / size, 2), "pages": len(sample),
                         "compress_ms": summary(c_ms, 3), "decompress_ms": summary(d_ms, 3)}
    return {"training_pages": len(training), "test_pages": len(test),
            "raw_kb_per_page": round(sum(map(len, test)) / len(test) / 1024, 2),
            "chosen": cand["chosen"], "dictionary_kb": cand["dict_kb"],
            "dictionary_size": cand["dict_size"], "dictionary_train_cpu_s": cand["train_cpu_s"],
            "methods": results}


def generated_pages(n: int) -> list[bytes]:
    """Article pages of a generated replica site, newest first (the order a crawl stores them)."""
    from tests.replica import ReplicaSite

    site = ReplicaSite.generated(max(n, 40))
    return [site.render(a).encode("utf-8") for a in site.live_articles()[:n]]


# -- what alerts add to archiving an article -----------------------------------------------

def _parsed_pages(n: int) -> tuple[list[tuple], list[tuple], float]:
    """(article id, url, record, raw) of `n` generated replica articles, the same edited
    (headline and a sentence added to the text), and the parse CPU per page (ms)."""
    from crawler.parsers import parse_article
    from tests.replica import ReplicaSite

    site = ReplicaSite.generated(max(n, 40))
    base = "https://www.rp.pl"
    articles = site.live_articles()[:n]
    pages = [(a.article_id, a.url(base), site.render(a, base)) for a in articles]
    start = time.process_time()
    first = []
    for article_id, url, html in pages:
        record = parse_article(html, url=url, site="rp").to_dict()
        record["article_id"] = article_id
        first.append((article_id, url, record, html.encode("utf-8")))
    parse_ms = (time.process_time() - start) / n * 1e3
    edited = [(article_id, url, {**record, "title": f"{record['title']} (aktualizacja)",
                                 "body": f"{record['body']}\n\nDopisek redakcji po publikacji."},
               raw + b"<!-- edited -->") for article_id, url, record, raw in first]
    return first, edited, parse_ms


def _interleaved(passes: list[list[tuple]]) -> dict:
    """Archive `passes` (one crawl run each) into two fresh SQLite archives at once, article
    by article, one with the alerts path and one without, alternating which goes first, so
    that the machine's load weighs on both alike. CPU seconds of each, and the events and
    outbox rows the alerts archive made."""
    import tempfile

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from storage import Archive, versions
    from storage.models import ChangeEvent
    from storage.outbox import enqueue, ensure_cursors

    original = versions.record_version_events

    def no_events(*args, **kwargs):
        return 0

    cpu = {True: 0.0, False: 0.0}
    queued = 0
    with tempfile.TemporaryDirectory() as tmp:
        archives = {alerts: Archive.open(f"sqlite:///{tmp}/{alerts}.db")
                    for alerts in (True, False)}
        try:
            with Session(archives[True].engine) as s, s.begin():
                ensure_cursors(s, ["bench"])
            for fetches in passes:
                runs = {alerts: archive.start_run("rp") for alerts, archive in archives.items()}
                for i, (article_id, url, record, raw) in enumerate(fetches):
                    for alerts in ((True, False) if i % 2 == 0 else (False, True)):
                        versions.record_version_events = original if alerts else no_events
                        start = time.process_time()
                        archives[alerts].record_fetch(runs[alerts], "rp", article_id, url,
                                                      record, raw)
                        cpu[alerts] += time.process_time() - start
                versions.record_version_events = original
                for alerts, archive in archives.items():
                    archive.finish_run(runs[alerts], "completed")
                start = time.process_time()  # the crawl's exit queues the outbox rows
                with Session(archives[True].engine) as s, s.begin():
                    queued += enqueue(s, "bench", lambda event: True, bootstrap=True,
                                      with_text=False)
                cpu[True] += time.process_time() - start
            with Session(archives[True].engine) as s:
                events = s.scalar(select(func.count()).select_from(ChangeEvent))
        finally:
            versions.record_version_events = original
            for archive in archives.values():
                archive.close()
    return {"with": cpu[True], "without": cpu[False], "events": events, "queued": queued}


def alerts_overhead(quick: bool = False) -> dict:
    """CPU per archived article with and without events + outbox, interleaved (see the
    module's docstring), over several rounds of fresh archives."""
    n, rounds = (40, 2) if quick else (300, 5)
    first, edited, parse_ms = _parsed_pages(n)
    fetches = 2 * n
    with_ms, without_ms, shares, made = [], [], [], {}
    for _ in range(rounds):
        measured = _interleaved([first, edited])
        made = {"events": measured["events"], "outbox_rows": measured["queued"]}
        with_ms.append(measured["with"] / fetches * 1e3)
        without_ms.append(measured["without"] / fetches * 1e3)
        shares.append((with_ms[-1] - without_ms[-1]) / (parse_ms + without_ms[-1]))
    added = [w - o for w, o in zip(with_ms, without_ms, strict=True)]
    return {"articles": n, "fetches": fetches, "rounds": rounds, **made,
            "parse_ms_per_page": round(parse_ms, 3),
            "archive_ms_with_alerts": summary(with_ms, 3),
            "archive_ms_without_alerts": summary(without_ms, 3),
            "added_ms_per_article": summary(added, 3),
            "share_of_parse_and_archive": summary(shares, 4)}


def run(quick: bool = False, archives: dict | None = None) -> dict:
    """archives: backend -> measure_archive() of a crawled archive (python -m bench passes
    the crawl benchmark's); without them only the compression candidates are measured."""
    params = _codec_params()
    n_test = 32 if quick else 256
    pages = generated_pages(params["train"] + n_test)
    comp = compression(pages, params["train"], runs=2 if quick else 3)
    archives = dict(archives or {})
    result = {"compression": comp, "archives": archives}
    rows = []
    for backend, arch in archives.items():
        if "kb_per_version" not in arch:
            continue
        kb = arch["kb_per_version"]
        rows += [
            row("storage", f"{backend}: KB per version incl. raw HTML ({arch['versions']} "
                f"versions)", {"median": kb}, "KB", f"<= {TARGET_KB_PER_VERSION:g}",
                kb <= TARGET_KB_PER_VERSION, 1),
            row("storage", f"{backend}: KB per version without raw HTML",
                {"median": arch["kb_per_version_without_raw"]}, "KB", digits=1),
            row("storage", f"{backend}: stored raw page (archive's compression)",
                {"median": arch["raw_page_kb_compressed"]}, "KB", digits=1),
        ]
    base = next((a["kb_per_version_without_raw"] for a in archives.values()
                 if "kb_per_version_without_raw" in a), None)
    for m in comp["methods"].values():
        if base is not None:
            m["estimated_kb_per_version"] = round(base + m["kb_per_page"], 2)
    chosen = comp["methods"][comp["chosen"]]
    plain = comp["methods"].get(f"zstd -{params['plain_level']}")
    rows.append(row("storage", f"raw page, {comp['chosen']} (chosen)",
                    {"median": chosen["kb_per_page"]}, "KB", digits=1))
    if plain:
        rows.append(row("storage", f"raw page, zstd -{params['plain_level']} (no dictionary)",
                        {"median": plain["kb_per_page"]}, "KB", digits=1))
    if base is not None:
        est = chosen["estimated_kb_per_version"]
        rows.append(row("storage", "est. KB/version with the chosen compression (sqlite)",
                        {"median": est}, "KB", f"<= {TARGET_KB_PER_VERSION:g}",
                        est <= TARGET_KB_PER_VERSION, 1))
    alerts = result["alerts"] = alerts_overhead(quick)
    share = alerts["share_of_parse_and_archive"]
    rows.append(row("storage", f"alerts: events + outbox CPU per article, share of parse + "
                    f"archive (SQLite, {alerts['articles']} articles x 2 versions; +"
                    f"{alerts['added_ms_per_article']['median']:.2f} ms)",
                    {k: None if share[k] is None else share[k] * 100
                     for k in ("median", "min", "max")}, "%",
                    f"<= {TARGET_ALERTS_SHARE * 100:g}",
                    share["median"] <= TARGET_ALERTS_SHARE, 1))
    result["rows"] = rows
    return result


if __name__ == "__main__":
    import json
    import sys

    out = run(quick="--quick" in sys.argv)
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2))
