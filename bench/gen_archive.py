"""Generate a synthetic archive for benchmarks: N articles, about 2.5 versions each, Polish text.

    python -m bench.gen_archive --articles 100000 --db var/bench/archive-100000.db
    python -m bench.gen_archive --articles 2000 --db postgresql://postgres@127.0.0.1/bench

The schema comes from the real migrations (`Archive.open`); rows go in through SQLAlchemy
Core executemany batches, so the full-text index is filled by the same triggers a crawl fires.
Text: the replica's phrase pools (tests/replica/text.py: real Polish sentences about
diplomacy) mixed with generated surnames, cities and numbers, so that word frequencies range
from very common to rare like in a real archive; bodies of 6-14 paragraphs (~450 words).
Later versions edit the previous one the way the site does: a reworded sentence, a new
headline, an added paragraph, a paywall change, a bumped update time.
Deterministic for a given seed.

The query and web benchmarks run over these archives through `measure_backends` (one archive
per backend, generated once) and share their command line (`benchmark_main`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from sqlalchemy import event, func, select

from storage import Archive, fts, versioning
from storage.changes import change_summary
from storage.models import Article, ArticleVersion, Site
from tests.replica import text as pools

# How many versions an article has (weights): mean 2.45.
VERSION_WEIGHTS = {1: 25, 2: 30, 3: 25, 4: 15, 5: 5}
POOL_SIZE = 60_000
EDITS = ("title", "body", "lead", "paywall_percent", "updated_at", "tags", "authors")
EDIT_WEIGHTS = (30, 60, 15, 20, 40, 10, 3)

FIRST_NAMES = ["Anna", "Piotr", "Krzysztof", "Agnieszka", "Tomasz", "Małgorzata", "Paweł",
               "Joanna", "Łukasz", "Katarzyna", "Michał", "Ewa", "Grzegorz", "Zofia", "Jędrzej",
               "Bartłomiej", "Dorota", "Wojciech", "Magdalena", "Sławomir", "Urszula", "Jacek"]
SURNAME_STEMS = ["Kowal", "Now", "Wiśniew", "Zieliń", "Woźni", "Łukasze", "Grabow", "Pawło",
                 "Mazur", "Krawcz", "Szczepań", "Dąbrow", "Wróbl", "Jabłoń", "Król", "Michal",
                 "Zając", "Sikor", "Chmiel", "Żuraw", "Gołęb", "Kaczmar", "Pietrz", "Wójc",
                 "Ziół", "Błasz", "Ślusarcz", "Żeleź", "Kozłow", "Jaworsk", "Głow", "Cieśl"]
SURNAME_ENDS = ["ski", "ska", "czyk", "ak", "ek", "ewicz", "owski", "iński", "uk", "ór", "ała",
                "ecki", "ewska", "as"]
CITIES = [("Łódź", "Łodzi"), ("Gdańsk", "Gdańska"), ("Kraków", "Krakowa"),
          ("Wrocław", "Wrocławia"), ("Poznań", "Poznania"), ("Białystok", "Białegostoku"),
          ("Rzeszów", "Rzeszowa"), ("Toruń", "Torunia"), ("Częstochowa", "Częstochowy"),
          ("Olsztyn", "Olsztyna"), ("Opole", "Opola"), ("Płock", "Płocka"), ("Elbląg", "Elbląga"),
          ("Suwałki", "Suwałk"), ("Przemyśl", "Przemyśla"), ("Zielona Góra", "Zielonej Góry"),
          ("Tallin", "Tallina"), ("Ryga", "Rygi"), ("Helsinki", "Helsinek"), ("Oslo", "Oslo"),
          ("Sztokholm", "Sztokholmu"), ("Praga", "Pragi"), ("Bratysława", "Bratysławy"),
          ("Wiedeń", "Wiednia"), ("Lwów", "Lwowa"), ("Odessa", "Odessy"), ("Tbilisi", "Tbilisi"),
          ("Erywań", "Erywania"), ("Astana", "Astany"), ("Seul", "Seulu"), ("Delhi", "Delhi")]
ROLES = ["ekspert Ośrodka Studiów Wschodnich", "były ambasador", "politolog",
         "analityk Polskiego Instytutu Spraw Międzynarodowych", "wiceminister",
         "przewodniczący sejmowej komisji spraw zagranicznych", "konsul honorowy",
         "europoseł", "doradca prezydenta", "historyk"]
NOUNS = ["porozumienie", "memorandum", "deklaracja", "rezolucja", "protokół", "traktat",
         "konwencja", "komunikat", "nota dyplomatyczna", "ultimatum", "embargo", "moratorium",
         "sankcje", "gwarancje", "konsultacje", "misja obserwacyjna", "mediacja", "arbitraż",
         "ratyfikacja", "wotum", "kontyngent", "kwarantanna", "eksterytorialność", "azyl"]


def _surnames(rng: random.Random) -> list[str]:
    names = sorted({s + e for s in SURNAME_STEMS for e in SURNAME_ENDS})
    rng.shuffle(names)
    return names


class TextGen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.writer = pools.Writer(seed)
        self.writer.rng = self.rng
        self.surnames = _surnames(self.rng)
        # Zipf-like pick: a few surnames are everywhere, most are rare.
        self.surname_cum = list(accumulate(1 / (i + 1) for i in range(len(self.surnames))))
        self.authors = [f"{self.rng.choice(FIRST_NAMES)} {s}"
                        for s in self.rng.sample(self.surnames, 120)]
        self.authors += [name for _, name in pools.AUTHORS]
        self.author_weights = [1 / (i + 1) ** 0.7 for i in range(len(self.authors))]
        self.pool: list[str] = []
        self.pool_cum: list[float] = []
        self.tags = pools.TAGS + [c for c, _ in pools.COUNTRIES] + [c for c, _ in CITIES[:12]] \
            + NOUNS[:10]

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} " \
               f"{self.rng.choices(self.surnames, cum_weights=self.surname_cum)[0]}"

    def sentence(self) -> str:
        r = self.rng
        kind = r.randrange(10)
        if kind < 6:
            return self.writer.sentence()
        city, city_gen = r.choice(CITIES)
        if kind == 6:
            return f"{self.person()}, {r.choice(ROLES)}, w rozmowie z „Rzeczpospolitą” " \
                   f"{r.choice(pools.SAID)}, że {r.choice(pools.THAT)}."
        if kind == 7:
            return f"{r.choice(NOUNS).capitalize()} podpisano w {r.choice(pools.PLACES)[0]} " \
                   f"{r.randint(1, 28)} {r.choice(['stycznia', 'marca', 'maja', 'września'])} " \
                   f"{r.randint(1990, 2026)} r."
        if kind == 8:
            return f"Do {city_gen} przyjedzie {r.randint(2, 400)} przedstawicieli " \
                   f"{r.choice(pools.COUNTRIES)[1]}, w tym {self.person()}."
        return f"„{r.choice(pools.QUOTES)}” – mówił w {city} {self.person()}."

    def paragraph(self) -> str:
        # Sentences come from a pre-generated pool: generating each one afresh costs more
        # than everything else per article; 60,000 distinct sentences keep the vocabulary wide.
        if not self.pool:
            self.pool = list(dict.fromkeys(self.sentence() for _ in range(POOL_SIZE)))
            self.pool_cum = list(accumulate(1 / (i + 1) ** 0.3 for i in range(len(self.pool))))
        return " ".join(self.rng.choices(self.pool, cum_weights=self.pool_cum,
                                         k=self.rng.randint(2, 4)))

    def article(self) -> dict:
        r = self.rng
        paragraphs = [self.paragraph() for _ in range(r.randint(6, 14))]
        if r.random() < 0.5:
            paragraphs.insert(r.randint(1, len(paragraphs) - 1), self.writer.speech())
        paywalled = r.random() < 0.6
        return {
            "title": self.writer.title(),
            "lead": self.writer.lead(),
            "body": "\n\n".join(paragraphs),
            "authors": r.choices(self.authors, self.author_weights, k=1 if r.random() < 0.85
                                 else 2),
            "tags": r.sample(self.tags, r.randint(3, 8)),
            "paywalled": paywalled,
            "paywall_percent": r.randint(50, 92) if paywalled and r.random() < 0.8 else None,
        }

    def edit(self, record: dict, when: datetime) -> tuple[dict, list[str]]:
        """The next version of `record`: one to three kinds of edit."""
        r = self.rng
        new = dict(record)
        kinds = set(r.choices(EDITS, EDIT_WEIGHTS, k=r.randint(1, 3)))
        changed = []
        for kind in EDITS:
            if kind not in kinds:
                continue
            if kind == "title":
                new["title"] = self.writer.title()
            elif kind == "lead":
                new["lead"] = self.writer.lead()
            elif kind == "body":
                paragraphs = new["body"].split("\n\n")
                i = r.randrange(len(paragraphs))
                if r.random() < 0.6:
                    sentences = paragraphs[i].split(". ")
                    sentences[r.randrange(len(sentences))] = self.sentence().rstrip(".")
                    paragraphs[i] = ". ".join(sentences)
                else:
                    paragraphs.insert(i, self.paragraph())
                new["body"] = "\n\n".join(paragraphs)
            elif kind == "paywall_percent":
                new["paywalled"] = True
                new["paywall_percent"] = r.randint(40, 95)
                if record["paywalled"] != new["paywalled"]:
                    changed.append("paywalled")
            elif kind == "updated_at":
                new["updated_at"] = when - timedelta(minutes=r.randint(1, 50))
            elif kind == "tags":
                new["tags"] = r.sample(self.tags, r.randint(3, 8))
            elif kind == "authors":
                new["authors"] = record["authors"] + [r.choices(self.authors,
                                                                self.author_weights)[0]]
            if new.get(kind) != record.get(kind):
                changed.append(kind)
        if not changed:  # an edit that drew the same value: touch the update time instead
            new["updated_at"] = when
            changed.append("updated_at")
        return new, changed


def _fast_sqlite(dbapi_conn, _record) -> None:
    dbapi_conn.execute("PRAGMA synchronous = OFF")
    dbapi_conn.execute("PRAGMA cache_size = -262144")  # 256 MiB


def generate(url: str, articles: int, *, seed: int = 7, batch: int = 1000,
             progress: bool = True) -> dict:
    """Create (or reuse, when it already holds `articles` articles) a synthetic archive at
    `url`. Returns {"articles", "versions", "seconds", "reused"}."""
    start = time.perf_counter()
    with Archive.open(url) as archive:
        engine = archive.engine
        with engine.connect() as conn:
            existing = conn.scalar(select(func.count()).select_from(Article))
            if existing:
                versions = conn.scalar(select(func.count()).select_from(ArticleVersion))
                if existing != articles:
                    raise SystemExit(f"{url} already holds {existing} articles (wanted "
                                     f"{articles}): use a fresh database")
                return {"articles": existing, "versions": versions, "seconds": 0.0,
                        "reused": True}

        if engine.dialect.name == "sqlite":
            # Bulk load: no fsync per transaction (a crash means regenerating anyway).
            event.listen(engine, "connect", _fast_sqlite)
            engine.dispose()
        with _index_afterwards(engine, progress):
            total_versions = _load(engine, articles, seed, batch, progress, start)
        for sql in ("ANALYZE",):
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(sql)
        if progress:
            print(file=sys.stderr)
    return {"articles": articles, "versions": total_versions,
            "seconds": round(time.perf_counter() - start, 1), "reused": False}


@contextmanager
def _index_afterwards(engine, progress: bool):
    """Load with the full-text trigger off and index everything in one statement afterwards:
    per-row trigger indexing is about twice as slow for a bulk load. The result is the same
    index (storage.fts.rebuild_search_index)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        if sqlite:
            for table in fts.SQLITE_TABLES:
                conn.exec_driver_sql(f"DROP TRIGGER {table}_ai")
        else:
            conn.exec_driver_sql(f"ALTER TABLE article_versions DISABLE TRIGGER {fts.PG_TRIGGER}")
            for col in fts.PG_INDEXED:
                conn.exec_driver_sql(f"DROP INDEX ix_version_fts_{col}")
    yield
    if progress:
        print("\n  indexing ...", end="", file=sys.stderr, flush=True)
    if sqlite:
        fts.rebuild_search_index(engine)
    else:
        _pg_parallel_index(engine)
    with engine.begin() as conn:
        if sqlite:
            for table in fts.SQLITE_TABLES:
                conn.exec_driver_sql(fts.sqlite_triggers(table)[f"{table}_ai"])
        else:
            for col in fts.PG_INDEXED:
                conn.exec_driver_sql(fts.pg_index(col))
            conn.exec_driver_sql(f"ALTER TABLE article_versions ENABLE TRIGGER {fts.PG_TRIGGER}")


def _pg_parallel_index(engine, workers: int = 2) -> None:
    """rebuild_search_index, split by id range over `workers` connections (to_tsvector is
    CPU-bound and PostgreSQL runs one statement on one core)."""
    with engine.connect() as conn:
        lo, hi = conn.exec_driver_sql("SELECT min(id), max(id) FROM article_versions").one()
    if lo is None:
        return
    step = (hi - lo) // workers + 1
    sql = fts.pg_fill("v.id >= %(lo)s AND v.id < %(hi)s")

    def work(start: int) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql, {"lo": start, "hi": start + step})

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(lo, hi + 1, step)))


def _load(engine, articles: int, seed: int, batch: int, progress: bool, start: float) -> int:
    gen = TextGen(seed)
    rng = gen.rng
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    first = now - timedelta(days=365 * 10)
    span = (now - first).total_seconds()
    published = sorted(first + timedelta(seconds=rng.random() * span)
                       for _ in range(articles))
    with engine.begin() as conn:
        conn.execute(Site.__table__.insert(), [{"id": 1, "name": "rp",
                                                "base_url": "https://www.rp.pl",
                                                "created_at": first}])
    version_id = 0
    total_versions = 0
    a_rows: list[dict] = []
    v_rows: list[dict] = []

    def flush():
        with engine.begin() as conn:
            if a_rows:
                conn.execute(Article.__table__.insert(), a_rows)
            if v_rows:
                conn.execute(ArticleVersion.__table__.insert(), v_rows)
        a_rows.clear()
        v_rows.clear()

    for n, pub in enumerate(published, 1):
        rp_id = str(30_000_000 + n * 97)
        slug = pools.slugify(f"artykul {n}")
        url_ = f"https://www.rp.pl/dyplomacja/art{rp_id}-{slug}"
        count = rng.choices(list(VERSION_WEIGHTS), list(VERSION_WEIGHTS.values()))[0]
        record = gen.article()
        record["updated_at"] = None
        fetched = pub + timedelta(minutes=rng.randint(5, 90))
        changed: list[str] = ["*"]
        previous = None
        for version in range(1, count + 1):
            if version > 1:
                fetched = fetched + timedelta(hours=rng.randint(1, 24 * 14))
                record, changed = gen.edit(record, fetched)
            version_id += 1
            # The summary a crawl would store, so that listings read it as in production.
            normalised = versioning.normalise({**record, "published_at": pub})
            summary = change_summary(previous, normalised)
            previous = normalised
            v_rows.append({
                "id": version_id, "article_id": n, "version": version,
                "content_hash": hashlib.sha256(f"{n}/{version}".encode()).hexdigest(),
                "changed_fields": changed, "fetched_at": fetched, "parser_version": "1",
                "raw_page_sha": None, "url": url_, "canonical_url": url_,
                "section": "Dyplomacja", "title": record["title"], "lead": record["lead"],
                "body": record["body"], "authors": record["authors"], "published_at": pub,
                "updated_at": record["updated_at"], "paywalled": record["paywalled"],
                "paywall_percent": record["paywall_percent"], "body_complete": True,
                "tags": record["tags"], "image": None, "related": [],
                "word_count": len(record["body"].split()), "sources": None,
                "change_summary": summary,
            })
        total_versions += count
        a_rows.append({
            "id": n, "site_id": 1, "article_id": rp_id, "url": url_,
            "section": "Dyplomacja", "status": "live", "current_version": count,
            "published_at": pub, "first_seen": pub + timedelta(minutes=5),
            "last_checked": now, "last_changed": fetched,
            "etag": None, "last_modified": None,
        })
        if len(a_rows) >= batch:
            flush()
            if progress:
                rate = n / (time.perf_counter() - start)
                print(f"\r  {n:,}/{articles:,} articles ({rate:,.0f}/s)", end="",
                      file=sys.stderr, flush=True)
    flush()
    return total_versions


def measure_backends(backends, articles: int, measure, fields: dict,
                     progress: bool = True) -> dict:
    """The report of a benchmark over synthetic archives: for each backend, the archive of
    `articles` articles (generated once, bench/databases.py says where), then
    `measure(url, generated)` -> its figures; a backend whose server cannot be reached is
    skipped. `fields` go into the report beside date, machine and the load averages."""
    from bench.databases import archive_url

    report: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "articles": articles, **fields, "machine": f"{os.cpu_count()} CPUs",
                    "backends": {}, "load_before": round(os.getloadavg()[0], 2)}
    for backend in backends:
        url = archive_url(backend, articles)
        if url is None:
            report["backends"][backend] = {"skipped": "server unreachable"}
            continue
        report["backends"][backend] = measure(url, generate(url, articles, progress=progress))
    report["load_after"] = round(os.getloadavg()[0], 2)
    return report


def benchmark_main(argv: list[str] | None, doc: str, run, format_report, option: str,
                   option_help: str) -> int:
    """The command line of a benchmark over synthetic archives: --articles (under 10,000: a
    smoke run), --backend, --json FILE and the benchmark's own numeric `option`, handed to
    `run` under its name (--per-kind: per_kind)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000,
                        help="archive size (default 100000; under 10000: a smoke run)")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"),
                        help="only this backend (repeatable; default both)")
    parser.add_argument(option, type=int, help=option_help)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    own = option.lstrip("-").replace("-", "_")
    report = run(args.articles < 10_000, articles=args.articles,
                 backends=tuple(args.backend or ("sqlite", "postgresql")),
                 **{own: getattr(args, own)})
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", required=True, help="archive URL (or SQLite file path)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    from crawler.config import normalise_db_url

    url = normalise_db_url(args.db, Path.cwd())
    result = generate(url, args.articles, seed=args.seed)
    print(f"{url}: {result['articles']:,} articles, {result['versions']:,} versions "
          f"in {result['seconds']} s{' (reused)' if result['reused'] else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
