"""Per-field differences between two versions of an article; word-level for text fields.

`diff_versions` reads the two versions; the rest are pure functions over the plain version
dicts that `get_version` returns. The word diff itself is storage.worddiff's (`word_diff`,
importable from here too), shared with the change summaries stored at write time.
"""

from __future__ import annotations

from typing import Any

from storage.query.errors import QueryError
from storage.query.lookup import get_version, list_versions
from storage.versioning import REPORTED_FIELDS
from storage.worddiff import tokens, word_diff

# Fields compared between versions, in the order a diff lists them.
DIFF_FIELDS = (*REPORTED_FIELDS, "url")
TEXT_FIELDS = ("title", "lead", "body")


def diff_records(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields that differ between two version dicts: [{"field", "old", "new"}, ...], text
    fields with "ops" (word_diff) as well."""
    fields = []
    for name in DIFF_FIELDS:
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        entry: dict[str, Any] = {"field": name, "old": before, "new": after}
        if name in TEXT_FIELDS:
            entry["ops"] = word_diff(before, after)
        fields.append(entry)
    return fields


def render_markers(ops: list[dict[str, str]]) -> str:
    """The inline diff as text with `[-removed-]` and `{+added+}` markers (as `git diff
    --word-diff=plain`), for output without colour."""
    out = []
    for op in ops:
        if op["op"] == "equal":
            out.append(op["text"])
        else:
            text = op["text"]
            core = text.rstrip()
            tail = text[len(core):]
            mark = ("[-", "-]") if op["op"] == "delete" else ("{+", "+}")
            out.append(f"{mark[0]}{core}{mark[1]}{tail}")
    return "".join(out)


def condense(ops: list[dict[str, str]], context: int = 12) -> list[dict[str, str]]:
    """`ops` with long unchanged stretches cut to `context` words either side of a change
    (the cut marked by an "equal" op of text " … "), for reading a long body's diff."""
    out: list[dict[str, str]] = []
    for i, op in enumerate(ops):
        if op["op"] != "equal":
            out.append(op)
            continue
        words = tokens(op["text"])
        keep_head = context if i > 0 else 0
        keep_tail = context if i < len(ops) - 1 else 0
        if len(words) <= keep_head + keep_tail + 3:
            out.append(op)
            continue
        head = "".join(words[:keep_head])
        tail = "".join(words[len(words) - keep_tail:]) if keep_tail else ""
        out.append({"op": "equal", "text": f"{head}… " + tail if head else "… " + tail})
    return out


def diff_versions(
    archive, ref: str | int, from_version: int | None = None, to_version: int | None = None,
    *, artefacts: bool = False,
) -> dict[str, Any]:
    """Per-field differences between two versions (default: the last two, parser artefacts
    left out unless `artefacts`: storage/reparse.py). Returns {id, article_id, title, from,
    to, from_fetched_at, to_fetched_at, fields: [{field, old, new, ops?}]}: `ops` is the
    word-level diff of title, lead and body (word_diff)."""
    if (from_version is None) != (to_version is None):
        raise QueryError("give both versions to compare, or neither")
    current = get_version(archive, ref)
    if from_version is None:
        numbers = [v["version"] for v in list_versions(archive, current["id"],
                                                       artefacts=artefacts)]
        if len(numbers) < 2:
            raise QueryError(f"article {ref!r} has a single version: nothing to compare")
        from_version, to_version = numbers[-2], numbers[-1]
    old = get_version(archive, current["id"], from_version)
    new = current if to_version == current["version"] else get_version(
        archive, current["id"], to_version)
    return {
        "id": current["id"],
        "article_id": current["article_id"],
        "title": new["title"],
        "from": old["version"],
        "to": new["version"],
        "from_fetched_at": old["fetched_at"],
        "to_fetched_at": new["fetched_at"],
        "fields": diff_records(old, new),
    }
