"""Marking search matches in the stored text: highlighted titles, snippets, and whether a
text mentions the query at all (for ranking).

Done in Python on the original text for both backends: the stored text is what the reader
sees, and fetching one body per hit is cheaper than FTS5 snippet() or ts_headline (both
re-run the match per row). The text is folded character for character (same length, so
offsets carry over) with textfold.fold's single-letter results, and the folded query words
are found in it as literals. (Letters folding to two, like ß -> ss, are not highlighted.)
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from storage.query.language import words_of
from storage.textfold import EXTRA_FOLDS, fold

_WORDCHAR = re.compile(r"[^\W_]")


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    # Identity entries too (Latin letters, general punctuation such as „ ” –): str.translate
    # is twice as fast when the characters it meets are in the table.
    table = {code: chr(code) for code in (*range(0x250), *range(0x2000, 0x2070))}
    for code in range(0x80, 0x250):
        folded = fold(chr(code))
        if len(folded) == 1:
            table[code] = folded
    table[0x130] = "i"  # İ: the one letter whose lower() is two characters
    return table


def _fold_same_length(text: str) -> str | None:
    folded = text.translate(_fold_table()).lower()
    return folded if len(folded) == len(text) else None


@lru_cache(maxsize=256)
def _pattern_for(phrases: tuple) -> re.Pattern | None:
    options = []
    for phrase in phrases:
        words = [re.escape(w) for w in phrase.words]
        tail = r"[^\W_]*" if phrase.prefix else r"(?![^\W_])"
        options.append(r"[\W_]+".join(words) + tail)
    # Literals first (fast scanning); the word start is checked on each match.
    return re.compile("|".join(f"(?:{o})" for o in options)) if options else None


def mentions(text: str | None, tree) -> bool:
    """Whether `text` contains one of the query's positive words or phrases (for ranking:
    a quicker fold than highlighting's, since offsets do not matter here; letters outside
    Latin script are dropped by it)."""
    pattern = _pattern_for(tuple(words_of(tree))) if text else None
    if pattern is None:
        return False
    for src, dst in EXTRA_FOLDS.items():
        if src in text:
            text = text.replace(src, dst)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return any(m.start() == 0 or not _WORDCHAR.match(folded, m.start() - 1)
               for m in pattern.finditer(folded))


def _matches(text: str, tree) -> list[tuple[int, int]]:
    pattern = _pattern_for(tuple(words_of(tree)))
    folded = _fold_same_length(text) if pattern else None
    if folded is None:
        return []
    return [m.span() for m in pattern.finditer(folded)
            if m.start() == 0 or not _WORDCHAR.match(folded, m.start() - 1)]


def _mark(text: str, spans, start: int, end: int, marks) -> str:
    out, pos = [], start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(text[pos:a])
        out.append(f"{marks[0]}{text[a:b]}{marks[1]}")
        pos = b
    out.append(text[pos:end])
    return "".join(out)


def highlight(text: str | None, tree, marks: tuple[str, str]) -> tuple[str, int]:
    """`text` with every match marked, and the number of matches."""
    if not text:
        return text or "", 0
    spans = _matches(text, tree)
    return _mark(text, spans, 0, len(text), marks), len(spans)


def snippet(text: str | None, tree, marks: tuple[str, str], words: int = 24) -> tuple[str, int]:
    """A passage of about `words` words around the densest cluster of matches (the first such),
    marked, with "…" where it was cut; and the number of matches in the whole text."""
    if not text:
        return "", 0
    spans = _matches(text, tree)
    width = words * 8  # characters: Polish words average about 7 plus a space
    best, best_count = 0, 0
    for i, (a, _) in enumerate(spans):
        count = sum(1 for x, y in spans[i:] if y <= a + width)
        if count > best_count:
            best, best_count = a, count
    start = max(0, best - width // 4) if spans else 0
    end = min(len(text), start + width)
    # Whole words only: move the cut points to the nearest space.
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < best or not spans else start
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start and (not spans or space >= spans[0][1]) else end
    passage = " ".join(_mark(text, spans, start, end, marks).split())
    return ("…" if start > 0 else "") + passage + ("…" if end < len(text) else ""), len(spans)
