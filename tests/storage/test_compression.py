"""Raw-page compression with a dictionary trained on the archive's own pages
(storage/compression.py): training, reading back across archive instances, plain pages stored
before the dictionary, and a training transaction that rolls back."""

from __future__ import annotations

import pytest

from storage import Archive
from storage.compression import DICT_CONTENT_TYPE, TRAIN_SAMPLES
from storage.models import RawPage
from storage.rawpages import store_raw
from tests.replica import ReplicaSite

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

HTML = "text/html; charset=utf-8"


@pytest.fixture(scope="module")
def pages() -> list[bytes]:
    site = ReplicaSite.generated(TRAIN_SAMPLES + 12)
    return [site.render(a).encode() for a in site.live_articles()[:TRAIN_SAMPLES + 8]]


def _store(archive: Archive, raw: bytes) -> str:
    return archive._write(lambda s: store_raw(s, raw, HTML))


def _compressions(archive: Archive) -> dict[str, str]:
    with archive._reader() as s:
        return {p.sha256: p.compression for p in s.query(RawPage)}


def test_dictionary_after_enough_pages(db_url, pages):
    archive = Archive.open(db_url)
    shas = [_store(archive, raw) for raw in pages]
    kinds = _compressions(archive)
    assert {kinds[sha] for sha in shas[:TRAIN_SAMPLES]} == {"zstd"}
    later = {kinds[sha] for sha in shas[TRAIN_SAMPLES:]}
    assert len(later) == 1 and later.pop().startswith("zd:")
    with archive._reader() as s:
        dicts = s.query(RawPage).filter(RawPage.content_type == DICT_CONTENT_TYPE).all()
        assert len(dicts) == 1
        stored = {p.sha256: len(p.data) for p in s.query(RawPage)}
    # The point of the dictionary: later pages are several times smaller.
    plain = sum(stored[sha] for sha in shas[:8]) / 8
    with_dict = sum(stored[sha] for sha in shas[TRAIN_SAMPLES:]) / len(shas[TRAIN_SAMPLES:])
    assert with_dict * 3 < plain
    # Every page reads back exactly, also from a new archive object (dictionary loaded from
    # the database), and the deep check agrees.
    archive.close()
    reopened = Archive.open(db_url)
    for sha, raw in zip(shas, pages, strict=True):
        assert reopened.get_raw(sha) == raw
    assert reopened.check(deep=True) == []
    # A new archive object keeps using the stored dictionary rather than training another.
    extra = pages[-1] + b"<!-- edited -->"
    sha = _store(reopened, extra)
    assert _compressions(reopened)[sha] == later_name(reopened)
    assert reopened.get_raw(sha) == extra
    reopened.close()


def later_name(archive: Archive) -> str:
    with archive._reader() as s:
        row = s.query(RawPage).filter(RawPage.content_type == DICT_CONTENT_TYPE).one()
    return "zd:" + row.sha256[:12]


def test_rolled_back_training_leaves_no_dangling_dictionary(sqlite_url, pages):
    archive = Archive.open(sqlite_url)
    for raw in pages[:TRAIN_SAMPLES]:
        _store(archive, raw)

    class Boom(Exception):
        pass

    def store_then_fail(s):
        store_raw(s, pages[TRAIN_SAMPLES], HTML)  # trains the dictionary in this transaction
        raise Boom

    with pytest.raises(Boom):
        archive._write(store_then_fail)
    sha = _store(archive, pages[TRAIN_SAMPLES + 1])
    assert archive.get_raw(sha) == pages[TRAIN_SAMPLES + 1]
    assert archive.check(deep=True) == []
    archive.close()


def test_concurrent_writers_train_one_dictionary(db_url, pages):
    """The crawl's pipeline writes from several threads: one of them trains, the others keep
    plain zstd until that dictionary is committed, rather than training their own."""
    from concurrent.futures import ThreadPoolExecutor

    archive = Archive.open(db_url)
    for raw in pages[:TRAIN_SAMPLES]:
        _store(archive, raw)
    rest = pages[TRAIN_SAMPLES:]
    with ThreadPoolExecutor(4) as pool:
        shas = list(pool.map(lambda raw: _store(archive, raw), rest))
    with archive._reader() as s:
        assert s.query(RawPage).filter(RawPage.content_type == DICT_CONTENT_TYPE).count() == 1
    for sha, raw in zip(shas, rest, strict=True):
        assert archive.get_raw(sha) == raw
    archive.close()


def test_plain_pages_are_not_counted_before_every_page(sqlite_url, pages):
    # Counting them reads every stored page's bytes (the column lies behind them): done before
    # each of the first pages, a fresh archive's first TRAIN_SAMPLES writes cost O(n^2).
    from sqlalchemy import event

    archive = Archive.open(sqlite_url)
    counts = []
    event.listen(archive.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: counts.append(sql) if "count(" in sql else None)
    shas = [_store(archive, raw) for raw in pages]
    assert len(counts) <= 2  # once at the first page, once when training is due
    kinds = _compressions(archive)
    assert [kinds[sha] == "zstd" for sha in shas] == [True] * TRAIN_SAMPLES + [False] * 8
    archive.close()
