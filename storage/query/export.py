"""Exporting versions: streamed records (iter_versions, export_records) and the JSONL and
CSV writers. Large exports never hold the archive in memory: rows are fetched in batches
with server-side cursors on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection

from storage.models import Article, ArticleVersion
from storage.query.connection import is_sqlite, reading, stream
from storage.query.filters import ArticleFilter, apply_filters
from storage.query.records import (
    RECORD_FIELDS,
    VERSION_COLUMNS,
    VERSION_META,
    current_join,
    version_join,
)

EXPORT_FIELDS = VERSION_META + RECORD_FIELDS
_DATE_FIELDS = ("fetched_at", "published_at", "updated_at")


def iter_versions(
    archive, flt: ArticleFilter | None = None, *, all_versions: bool = False, batch: int = 500,
) -> Iterator[dict[str, Any]]:
    """Version records of the articles `flt` selects (current versions, or every version with
    `all_versions`), by article then version, streamed in batches."""
    with reading(archive) as conn:
        query = _versions_query(conn, select(*VERSION_COLUMNS), flt, all_versions)
        for row in stream(conn, query, batch):
            yield dict(row._mapping)


def _versions_query(conn: Connection, query, flt: ArticleFilter | None, all_versions: bool):
    query = query.select_from(version_join() if all_versions else current_join())
    if flt is not None and not flt.is_empty():
        # Filters speak about the current version; in a history export they pick the
        # articles, whose versions all follow.
        if all_versions:
            chosen = apply_filters(conn, select(Article.id).select_from(current_join()), flt)
            query = query.where(Article.id.in_(chosen))
        else:
            query = apply_filters(conn, query, flt)
    return query.order_by(Article.id, ArticleVersion.version)


def export_records(
    archive, flt: ArticleFilter | None = None, *, all_versions: bool = False, batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Records for export, streamed: EXPORT_FIELDS (VERSION_META + the record's fields),
    JSON-safe (dates as ISO 8601 strings in UTC)."""
    columns = {c.key: c for c in VERSION_COLUMNS}
    with reading(archive) as conn:
        sqlite = is_sqlite(conn)
        selected = []
        for key in EXPORT_FIELDS:
            column = columns[key]
            if sqlite and key in _DATE_FIELDS:
                # SQLite keeps UTC text; reading it through the DateTime type (a regex per
                # value) costs more than the rest of the export row.
                column = type_coerce(column, String).label(key)
            selected.append(column)
        query = _versions_query(conn, select(*selected), flt, all_versions)
        positions = [EXPORT_FIELDS.index(k) for k in _DATE_FIELDS]
        for row in stream(conn, query, batch):
            values = list(row)
            for i in positions:
                if values[i] is not None:
                    values[i] = _iso(values[i])
            yield dict(zip(EXPORT_FIELDS, values, strict=True))


def _iso(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)) \
        .isoformat()


# -- writers -----------------------------------------------------------------------------------

_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder: json.dumps(**kw) builds one per call


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON object per line; returns the count. Lines are written in batches."""
    n = 0
    batch: list[str] = []
    for record in records:
        batch.append(_JSON.encode(record))
        n += 1
        if len(batch) == 500:
            out.write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        out.write("\n".join(batch) + "\n")
    return n


# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any, *, raw: bool = False) -> str:
    """A CSV cell: lists and objects as JSON, None as empty, booleans as true/false; text
    starting like a formula gets a leading apostrophe unless `raw`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        text_value = json.dumps(value, ensure_ascii=False)
    else:
        text_value = str(value)
    if not raw and text_value.startswith(FORMULA_PREFIXES):
        return "'" + text_value
    return text_value


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], *, raw: bool = False) -> int:
    """CSV with a header row taken from the first record; returns the count of records."""
    writer = None
    n = 0
    for record in records:
        if writer is None:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(list(record))
        writer.writerow([csv_cell(v, raw=raw) for v in record.values()])
        n += 1
    if writer is None:  # still write the header, so an empty export is a valid CSV
        csv.writer(out, lineterminator="\n").writerow(list(EXPORT_FIELDS))
    return n


def read_csv_records(text_or_file: str | IO[str]) -> list[dict[str, Any]]:
    """Parse write_csv output back (for tests and tools): JSON cells decoded, the formula
    apostrophe removed."""
    fh = io.StringIO(text_or_file) if isinstance(text_or_file, str) else text_or_file
    out = []
    for row in csv.DictReader(fh):
        item = {}
        for key, value in row.items():
            if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
                value = value[1:]
            item[key] = value
        out.append(item)
    return out
