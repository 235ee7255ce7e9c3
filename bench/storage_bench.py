"""Storage cost: bytes on disk per archived version, with and without the raw HTML, and the
raw-page compression the archive uses against plain gzip and zstd.

Two parts:
- `measure_archive(db_url)`: a real archive, the one the crawl benchmark's first crawl wrote
  (SQLite: file size after a WAL checkpoint, split by table with dbstat; PostgreSQL:
  pg_total_relation_size of every table, indexes and TOAST included).
- `compression(pages)`: every candidate on the same replica pages. The dictionary is trained
  the way the archive trains it (on the first pages stored, storage/compression.py) and
  measured on the pages after them, never on its own training set.
"""

from __future__ import annotations

import gzip
import time

import zstandard

from bench import row, summary

TARGET_KB_PER_VERSION = 40.0
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
        return {"train": 64, "dict_size": 256 * 1024, "level": 3, "plain_level": 10}
    return {"train": c.TRAIN_SAMPLES, "dict_size": c.DICT_SIZE, "level": c.DICT_LEVEL,
            "plain_level": c.PLAIN_LEVEL}


def candidates(training: list[bytes]) -> dict:
    p = _codec_params()
    zdict = zstandard.train_dictionary(p["dict_size"], training)
    out = {
        "gzip -6": (lambda b: gzip.compress(b, 6), gzip.decompress),
        "gzip -9": (lambda b: gzip.compress(b, 9), gzip.decompress),
    }
    for level in (3, p["plain_level"], 19):
        comp = zstandard.ZstdCompressor(level=level)
        out[f"zstd -{level}"] = (comp.compress, zstandard.ZstdDecompressor().decompress)
    for level in sorted({p["level"], p["plain_level"]}):
        zd = zstandard.ZstdCompressionDict(zdict.as_bytes())
        zd.precompute_compress(level=level)
        comp = zstandard.ZstdCompressor(level=level, dict_data=zd)
        out[f"zstd -{level} + dictionary"] = (
            comp.compress, zstandard.ZstdDecompressor(dict_data=zd).decompress)
    return {"codecs": out, "chosen": f"zstd -{p['level']} + dictionary",
            "dict_kb": round(len(zdict.as_bytes()) / 1024, 1), **p}


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
            "dictionary_size": cand["dict_size"], "methods": results}


def generated_pages(n: int) -> list[bytes]:
    """Article pages of a generated replica site, newest first (the order a crawl stores them)."""
    from tests.replica import ReplicaSite

    site = ReplicaSite.generated(max(n, 40))
    return [site.render(a).encode("utf-8") for a in site.live_articles()[:n]]


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
    result["rows"] = rows
    return result


if __name__ == "__main__":
    import json
    import sys

    out = run(quick="--quick" in sys.argv)
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2))
