"""Raw-page compression: zstd with a dictionary trained on the archive's own pages.

Pages of one site share most of their bytes (inlined CSS, an SVG sprite, menus, scripts), which
plain zstd cannot reuse across pages: a ~155 KB replica page is ~39 KB with zstd -10 but ~7 KB
with zstd -2 and a 256 KiB dictionary trained on 64 earlier pages, and about twenty times
faster to compress (bench/storage_bench.py measures both).

The dictionary is stored in `raw_pages` itself, content-addressed like any page (content type
DICT_CONTENT_TYPE, plain zstd), so the schema does not change. A page compressed with it says so
in its `compression` column: "zd:" + the first 12 hex digits of the dictionary's sha256. Pages
stored before a dictionary existed stay "zstd" and decompress as before; an archive that only
has plain pages trains its dictionary from them on its next write.
"""

from __future__ import annotations

import hashlib
import threading

import zstandard
from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session

from storage.models import RawPage
from storage.types import utcnow

DICT_CONTENT_TYPE = "application/x-zstd-dictionary"
DICT_PREFIX = "zd:"
# Pages stored before the dictionary exists (the first TRAIN_SAMPLES): -10 would save ~8% on
# those few pages for 6x the CPU, which a fresh archive's first crawl pays in full.
PLAIN_LEVEL = 3
# With the dictionary: level 3 gains 1% (real-weight pages) to 9% (lighter replica pages) over
# 2 for 1.4x the time; higher levels gain ~5% more for 3x.
DICT_LEVEL = 2
DICT_SIZE = 256 * 1024  # the shared markup of an rp.pl page is ~100 KB: 64 KiB is too small
TRAIN_SAMPLES = 64
# Fixed fastcover parameters: without them zstd searches k and d, ~5x the CPU (1 s for 64
# real-weight pages) for a dictionary within 1-2% of this one's ratio.
TRAIN_PARAMS = {"k": 2048, "d": 8}
# Each sample's first 192 KB: a page's shared markup (inline styles, sprite, menus) comes
# first. On whole real-weight pages, training took 2.3x the CPU (0.14 s against 0.06 s, once
# per archive) for a dictionary that compressed the next pages 3% worse (bench/storage_bench).
TRAIN_SAMPLE_BYTES = 192 * 1024


def train_dictionary(samples: list[bytes],
                     dict_size: int = DICT_SIZE) -> zstandard.ZstdCompressionDict:
    """A dictionary trained on pages `samples` (the archive's, or a benchmark's)."""
    return zstandard.train_dictionary(dict_size, [s[:TRAIN_SAMPLE_BYTES] for s in samples],
                                      **TRAIN_PARAMS)


def is_dict_compression(name: str | None) -> bool:
    return bool(name) and name.startswith(DICT_PREFIX)


class PageCodec:
    """Compresses pages for one archive; thread-safe (the pipeline writes from worker threads).

    The active dictionary becomes visible to other transactions only once the transaction that
    stored it has committed: a rolled-back training must not leave pages pointing at a
    dictionary that was never written."""

    def __init__(self, *, train_samples: int = TRAIN_SAMPLES, dict_size: int = DICT_SIZE,
                 level: int = DICT_LEVEL, plain_level: int = PLAIN_LEVEL):
        self.train_samples, self.dict_size = train_samples, dict_size
        self.level, self.plain_level = level, plain_level
        self._lock = threading.Lock()
        self._active: tuple[str, zstandard.ZstdCompressionDict] | None = None
        self._dicts: dict[str, zstandard.ZstdCompressionDict] = {}  # by compression name
        self._next_try = train_samples  # plain pages needed before (re)trying to train
        # Plain pages in the archive when last counted, plus those compressed here since: the
        # count reads every stored page (`compression` lies behind the page's bytes), so it
        # runs once and then only when this estimate says training may be due.
        self._plain_estimate: int | None = None
        self._pending = False  # a dictionary is being trained or awaits its commit
        self._local = threading.local()  # (de)compressor objects are not thread-safe

    # -- writing -----------------------------------------------------------------------------

    def compress(self, s: Session, raw: bytes) -> tuple[bytes, str]:
        """(data, compression name) for a page about to be stored in session `s`."""
        active = self._active or self._find_or_train(s)
        if active is None:
            return zstandard.ZstdCompressor(level=self.plain_level).compress(raw), "zstd"
        name, zdict = active
        compressors = self._thread_cache("compressors")
        comp = compressors.get(name)
        if comp is None:
            comp = compressors[name] = zstandard.ZstdCompressor(level=self.level,
                                                                dict_data=zdict)
        return comp.compress(raw), name

    def _find_or_train(self, s: Session):
        with self._lock:
            if self._active is not None:
                return self._active
            if self._pending:
                # Another thread's transaction holds a new dictionary: plain zstd meanwhile
                # (on PostgreSQL its uncommitted row is invisible here: no second training).
                return None
            row = s.scalars(
                select(RawPage).where(RawPage.content_type == DICT_CONTENT_TYPE)
                .order_by(RawPage.stored_at, RawPage.sha256).limit(1)
            ).first()
            if row is not None:
                self._active = self._register(row.sha256, self._plain(row))
                return self._active
            if self._plain_estimate is None or self._plain_estimate >= self._next_try:
                self._plain_estimate = s.scalar(select(func.count()).select_from(RawPage)
                                                .where(RawPage.compression == "zstd"))
            plain = self._plain_estimate
            if plain < self._next_try:
                self._plain_estimate += 1  # the page about to be stored plain
                return None
            trained = self._train(s)
            if trained is None:
                self._next_try = plain * 2  # too few distinct samples: retry much later
                return None
            self._pending = True
        sha, data = trained
        active = self._register(sha, data)
        # Use it in this transaction now; others see it once this one commits.
        event.listen(s, "after_commit", lambda _s: self._settle(active), once=True)
        event.listen(s, "after_rollback", lambda _s: self._settle(None), once=True)
        _store_dictionary(s, sha, data)
        return active

    def _settle(self, active) -> None:
        with self._lock:
            self._pending = False
            if self._active is None and active is not None:
                self._active = active

    def _train(self, s: Session) -> tuple[str, bytes] | None:
        rows = s.scalars(
            select(RawPage).where(RawPage.compression == "zstd",
                                  or_(RawPage.content_type.is_(None),
                                      RawPage.content_type != DICT_CONTENT_TYPE))
            .order_by(RawPage.stored_at.desc()).limit(self.train_samples)
        ).all()
        samples = [self._plain(r) for r in rows]
        try:
            zdict = train_dictionary(samples, self.dict_size)
        except zstandard.ZstdError:
            return None
        data = zdict.as_bytes()
        return hashlib.sha256(data).hexdigest(), data

    def _register(self, sha: str, data: bytes):
        name = DICT_PREFIX + sha[:12]
        zdict = self._dicts.get(name)
        if zdict is None:
            zdict = zstandard.ZstdCompressionDict(data)
            zdict.precompute_compress(level=self.level)
            self._dicts[name] = zdict
        return name, zdict

    # -- reading -----------------------------------------------------------------------------

    def decompress(self, s: Session | None, page: RawPage) -> bytes:
        if page.compression == "none":
            return page.data
        if page.compression == "zstd":
            return self._plain(page)
        if not is_dict_compression(page.compression):
            raise ValueError(f"unknown compression {page.compression!r}")
        zdict = self._dicts.get(page.compression)
        if zdict is None:
            zdict = self._load(s, page.compression)
        decompressors = self._thread_cache("decompressors")
        dec = decompressors.get(page.compression)
        if dec is None:
            dec = decompressors[page.compression] = zstandard.ZstdDecompressor(dict_data=zdict)
        return dec.decompress(page.data, max_output_size=page.size)

    def _load(self, s: Session | None, name: str) -> zstandard.ZstdCompressionDict:
        if s is None:
            raise ValueError(f"dictionary {name} not loaded and no session to load it from")
        prefix = name[len(DICT_PREFIX):]
        # A range on the primary key finds the dictionary by its sha256 prefix on any backend.
        row = s.scalars(select(RawPage).where(RawPage.sha256 >= prefix,
                                              RawPage.sha256 < prefix + "g",
                                              RawPage.content_type == DICT_CONTENT_TYPE)).first()
        if row is None:
            raise ValueError(f"compression dictionary {name} is missing")
        with self._lock:
            return self._register(row.sha256, self._plain(row))[1]

    @staticmethod
    def _plain(page: RawPage) -> bytes:
        if page.compression == "none":
            return page.data
        return zstandard.ZstdDecompressor().decompress(page.data, max_output_size=page.size)

    def _thread_cache(self, name: str) -> dict:
        cache = getattr(self._local, name, None)
        if cache is None:
            cache = {}
            setattr(self._local, name, cache)
        return cache


def _store_dictionary(s: Session, sha: str, data: bytes) -> None:
    s.add(RawPage(sha256=sha, data=zstandard.ZstdCompressor(level=PLAIN_LEVEL).compress(data),
                  size=len(data), compression="zstd", content_type=DICT_CONTENT_TYPE,
                  encoding=None, stored_at=utcnow()))
    s.flush()
