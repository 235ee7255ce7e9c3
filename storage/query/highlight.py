"""Marking search matches in the stored text: highlighted titles, snippets, and whether a
text mentions the query at all (for ranking).

Done in Python on the original text for both backends: the stored text is what the reader
sees, and fetching one body per hit is cheaper than FTS5 snippet() or ts_headline (both
re-run the match per row). A character of the text matches a letter of a (folded) query word
when textfold.fold turns it into that letter alone, case folded: each query letter becomes
the class of its variants ("l" -> [lLłŁ...]), so the text is searched as it is, offsets and
all, without folding it first (str.translate over a whole body cost more than the rest of
a search). (Letters folding to two, like ß -> ss, are not highlighted.)
"""

from __future__ import annotations

import re
from functools import lru_cache

from storage.query.language import words_of
from storage.textfold import fold

_WORDCHAR = re.compile(r"[^\W_]")


@lru_cache(maxsize=1)
def _variants() -> dict[str, str]:
    """Each folded letter -> the characters of the Basic Multilingual Plane that fold to it
    alone (itself included): Latin letters by textfold.fold when that gives one letter, then
    every character by lower(). (Beyond the plane, cased letters only pair with their own
    capitals: _letters adds those.)"""
    found: dict[str, set[str]] = {}
    for code in range(0x10000):
        char = folded = chr(code)
        if 0x80 <= code < 0x250:
            folded = fold(char) if len(fold(char)) == 1 else char
        if code == 0x130:
            folded = "i"  # İ: the one letter whose lower() is two characters
        folded = folded.lower()
        if len(folded) == 1 and folded != char:
            found.setdefault(folded, {folded}).add(char)
    return {letter: "".join(sorted(chars)) for letter, chars in found.items()}


def _chars(letter: str) -> str:
    """The characters of original text that match `letter` (folded)."""
    chars = _variants().get(letter, letter)
    upper = letter.upper()
    if len(upper) == 1 and upper.lower() == letter and upper not in chars:
        chars += upper
    return chars


def _one_of(chars: str) -> str:
    return f"[{re.escape(chars)}]" if len(chars) > 1 else re.escape(chars)


def _letters(word: str) -> str:
    """`word` (folded) as a pattern over original text."""
    return "".join(_one_of(_chars(letter)) for letter in word)


@lru_cache(maxsize=256)
def _text_pattern_for(phrases: tuple) -> re.Pattern | None:
    """The query's phrases in the original text: each letter as the class of its variants."""
    options = []  # (the first letter's characters, the pattern of the rest)
    for phrase in phrases:
        tail = r"[^\W_]*" if phrase.prefix else r"(?![^\W_])"
        first, rest = phrase.words[0][0], phrase.words[0][1:]
        options.append((_chars(first), _letters(rest) + "".join(
            r"[\W_]+" + _letters(w) for w in phrase.words[1:]) + tail))
    if not options:
        return None
    if len({first for first, _ in options}) == 1:
        first = _one_of(options[0][0])
        return re.compile(first + "(?:" + "|".join(f"(?:{rest})" for _, rest in options) + ")")
    # Options starting with different letters: `re` skips fast through the text only to the
    # characters a pattern can start with when it starts with one set of them, so the first
    # letter is any option's, and each option checks behind it that it was its own (the same
    # matches, 2-3 times faster over a body for two words).
    union = "".join(sorted({c for first, _ in options for c in first}))
    return re.compile(_one_of(union) + "(?:" + "|".join(
        f"(?<={_one_of(first)}){rest}" for first, rest in options) + ")")


def mentions(text: str | None, tree) -> bool:
    """Whether `text` contains one of the query's positive words or phrases (for ranking):
    whether highlighting would mark anything in it."""
    return bool(text) and next(_spans(text, tree), None) is not None


def _spans(text: str, tree):
    pattern = _text_pattern_for(tuple(words_of(tree)))
    if pattern is None:
        return
    # (Folding keeps letters letters, so the word start can be checked on the text itself.)
    for m in pattern.finditer(text):
        if m.start() == 0 or not _WORDCHAR.match(text, m.start() - 1):
            yield m.span()


def _matches(text: str, tree) -> list[tuple[int, int]]:
    return list(_spans(text, tree))


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
