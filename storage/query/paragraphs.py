"""A body diff aligned as paragraphs, word-level inside each changed paragraph.

Bodies are stored with paragraphs separated by a blank line (versioning.normalise_body).
Paragraphs are matched first (whole paragraphs, so a moved or inserted paragraph does not
smear a word diff across the rest of the text), then each pair of changed paragraphs gets
`word_diff` (whole words: "w poniedziałek" -> "we wtorek" is two replaced words).
Pure functions over text; for side-by-side and inline views.
"""

from __future__ import annotations

import difflib
from typing import Any

from storage.query.diff import word_diff

# Two paragraphs in a replaced block are one edited paragraph when at least this share of
# their words is common; below it they are shown as one removed and one added paragraph.
PAIR_SIMILARITY = 0.4


def split_paragraphs(body: str | None) -> list[str]:
    return [p for p in (body or "").split("\n\n") if p.strip()]


def _similar(a: str, b: str) -> bool:
    wa, wb = a.split(), b.split()
    if not wa or not wb:
        return False
    matcher = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    return matcher.ratio() >= PAIR_SIMILARITY


def paragraph_diff(old: str | None, new: str | None) -> list[dict[str, Any]]:
    """Rows in reading order: {"op": "equal"|"change"|"delete"|"insert", "old": text or None,
    "new": text or None}; "change" rows also carry "ops" (word_diff of the pair)."""
    a, b = split_paragraphs(old), split_paragraphs(new)
    rows: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend({"op": "equal", "old": p, "new": p} for p in a[i1:i2])
            continue
        olds, news = a[i1:i2], b[j1:j2]
        # Pair the replaced paragraphs in order while they still look like edits of each
        # other; whatever is left over was removed or added.
        k = 0
        while k < min(len(olds), len(news)) and _similar(olds[k], news[k]):
            rows.append({"op": "change", "old": olds[k], "new": news[k],
                         "ops": word_diff(olds[k], news[k])})
            k += 1
        rows.extend({"op": "delete", "old": p, "new": None} for p in olds[k:])
        rows.extend({"op": "insert", "old": None, "new": p} for p in news[k:])
    return rows


def collapse(rows: list[dict[str, Any]], context: int = 1) -> list[dict[str, Any]]:
    """`rows` with runs of unchanged paragraphs more than `context` away from a change folded
    into {"op": "skip", "rows": [...]} (kept, so that a view can still expand them)."""
    changed = [i for i, r in enumerate(rows) if r["op"] != "equal"]
    keep = {j for i in changed for j in range(i - context, i + context + 1)}
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        if row["op"] != "equal" or i in keep:
            out.append(row)
        elif out and out[-1]["op"] == "skip":
            out[-1]["rows"].append(row)
        else:
            out.append({"op": "skip", "rows": [row]})
    return out
