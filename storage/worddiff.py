"""Whole-word differences between two texts: one tokenizer and one differ for the diffs that
readers show (storage.query.diff) and the word counts stored with every version
(storage/changes.py), so that both speak of the same words."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

# A word with the whitespace after it: the diff works on words, and joining the tokens gives
# back the text exactly. (Whitespace as tokens of its own would make difflib align on spaces.)
_TOKEN = re.compile(r"\s+|\S+\s*")


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def words(text: str | None) -> list[str]:
    """The words alone, for counting: a word that only gained or lost the whitespace after it
    (the last word of a paragraph when one is added) is the same word."""
    return (text or "").split()


def word_count(text: str | None) -> int:
    return len(words(text))


def _runs(a: list[str], b: list[str]) -> Iterator[tuple[str, list[str]]]:
    """("equal" | "delete" | "insert", items) turning `a` into `b`, in order; a replacement is
    its delete run followed by its insert run."""
    # autojunk off: in a long body the common words would otherwise be ignored as "junk".
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            yield "equal", a[i1:i2]
            continue
        if tag in ("delete", "replace"):
            yield "delete", a[i1:i2]
        if tag in ("insert", "replace"):
            yield "insert", b[j1:j2]


def word_diff(old: str | None, new: str | None) -> list[dict[str, str]]:
    """Inline word diff: a list of {"op": "equal"|"delete"|"insert", "text": ...}; the
    equal+delete texts join to `old`, the equal+insert texts to `new`."""
    ops: list[dict[str, str]] = []
    for op, run in _runs(tokens(old), tokens(new)):
        text = "".join(run)
        if not text:
            continue
        if ops and ops[-1]["op"] == op:
            ops[-1]["text"] += text
        else:
            ops.append({"op": op, "text": text})
    return ops


def words_changed(old: str | None, new: str | None) -> tuple[int, int]:
    """(words added, words removed): the same differ as word_diff, over the words alone, so
    whitespace (a paragraph break where a space was) changes no word."""
    added = removed = 0
    for op, run in _runs(words(old), words(new)):
        if op == "insert":
            added += len(run)
        elif op == "delete":
            removed += len(run)
    return added, removed
