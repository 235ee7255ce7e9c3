"""Full-text search: a small query language, parsed here and rendered for each backend.

Syntax (documented in `newsmon search --help`):
    word            matches the word, case and Polish diacritics folded both ways
    stoltenb*       prefix
    "two words"     phrase (a trailing * makes its last word a prefix)
    a b / a AND b   both;  a OR b  either;  -a / NOT a  without;  ( ... ) grouping

The user's text is parsed into a tree (`parse_query`); malformed input raises `QueryError`.
The tree is rendered into an FTS5 MATCH expression or a PostgreSQL tsquery made only of
folded letters/digits, quotes and operators, and that string is always passed as a bound
parameter: query text never becomes SQL. The index side is described in
storage/migrations/versions/0003_search.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from storage.textfold import EXTRA_FOLDS, fold, fold_words


class QueryError(ValueError):
    """Bad input to a query function: a malformed search, an unknown article or version."""


# -- the query tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """One word or a phrase of consecutive words; `prefix`: the last word is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class And:
    positive: tuple  # of nodes, at least one
    negative: tuple = ()


@dataclass(frozen=True)
class Or:
    options: tuple


OPERATORS = ("AND", "OR", "NOT")


def _tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, value) pairs: ("(", ..), (")", ..), ("phrase", inner text), ("word", text)."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append((ch, ch))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError("unbalanced quote: a phrase opened with \" is never closed")
            star = end + 1 < n and text[end + 1] == "*"
            tokens.append(("phrase*" if star else "phrase", text[i + 1 : end]))
            i = end + (2 if star else 1)
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            tokens.append(("word", text[i:j]))
            i = j
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            raise QueryError("empty search query")
        node = self.parse_or()
        if self.peek() is not None:
            kind, value = self.peek()
            raise QueryError(f"unexpected {value!r}" + (" (unbalanced parenthesis)"
                                                         if kind == ")" else ""))
        return node

    def parse_or(self):
        options = [self.parse_and()]
        while self._is_op("OR"):
            self.take()
            if self.peek() is None or self.peek()[0] == ")" or self._is_op("OR", "AND"):
                raise QueryError("OR needs a term on both sides")
            options.append(self.parse_and())
        return options[0] if len(options) == 1 else Or(tuple(options))

    def parse_and(self):
        positive, negative = [], []
        while True:
            token = self.peek()
            if token is None or token[0] == ")" or self._is_op("OR"):
                break
            if self._is_op("AND"):
                self.take()
                if not (positive or negative) or self._at_end_of_group() or self._is_op("AND"):
                    raise QueryError("AND needs a term on both sides")
                continue
            negate = False
            if self._is_op("NOT"):
                self.take()
                negate = True
            elif token[0] == "word" and token[1].startswith("-") and len(token[1]) > 1:
                self.tokens[self.pos] = ("word", token[1][1:])
                negate = True
            if negate and (self._at_end_of_group() or self._is_op("AND", "OR", "NOT")):
                raise QueryError("NOT needs a term after it")
            node = self.parse_unary()
            if node is None:
                continue
            (negative if negate else positive).append(node)
        if not positive:
            if negative:
                raise QueryError("a query cannot only exclude: add a term to search for")
            raise QueryError("expected a search term")
        if len(positive) == 1 and not negative:
            return positive[0]
        return And(tuple(positive), tuple(negative))

    def parse_unary(self):
        kind, value = self.take()
        if kind == "(":
            if self.peek() is not None and self.peek()[0] == ")":
                raise QueryError("empty parentheses")
            node = self.parse_or()
            if self.peek() is None or self.peek()[0] != ")":
                raise QueryError("unbalanced parenthesis: ( is never closed")
            self.take()
            return node
        if kind in ("phrase", "phrase*"):
            words = fold_words(value)
            if not words:
                raise QueryError(f"nothing to search for in \"{value}\"")
            return Phrase(tuple(words), prefix=kind == "phrase*")
        prefix = value.endswith("*")
        words = fold_words(value.rstrip("*"))
        if not words:
            if prefix:
                raise QueryError(f"a prefix needs at least one letter: {value!r}")
            return None  # punctuation only ("-", "&"): nothing to match, like the tokenizer
        return Phrase(tuple(words), prefix=prefix)

    def _is_op(self, *names: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1] in names

    def _at_end_of_group(self) -> bool:
        token = self.peek()
        return token is None or token[0] == ")"


def parse_query(text: str):
    """The query tree of `text`; raises QueryError with a readable reason when malformed."""
    if text is None or not str(text).strip():
        raise QueryError("empty search query")
    if len(text) > 1000:
        raise QueryError("search query too long (at most 1000 characters)")
    return _Parser(str(text)).parse()


# -- rendering ------------------------------------------------------------------------------------


def to_fts5(node) -> str:
    """An FTS5 MATCH expression. Every word is double-quoted, so FTS5 keywords (NEAR, AND...)
    in the user's text are plain words; words are folded letters and digits only."""
    if isinstance(node, Phrase):
        return '"' + " ".join(node.words) + '"' + ("*" if node.prefix else "")
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(n) for n in node.options) + ")"
    expr = "(" + " AND ".join(to_fts5(n) for n in node.positive) + ")"
    for neg in node.negative:
        expr = f"({expr} NOT {to_fts5(neg)})"
    return expr


def to_tsquery(node) -> str:
    """A PostgreSQL to_tsquery() expression (same words, quoted as tsquery lexemes)."""
    if isinstance(node, Phrase):
        lexemes = [f"'{w}'" for w in node.words]
        if node.prefix:
            lexemes[-1] += ":*"
        return "(" + " <-> ".join(lexemes) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(n) for n in node.options) + ")"
    parts = [to_tsquery(n) for n in node.positive] + [f"!{to_tsquery(n)}" for n in node.negative]
    return "(" + " & ".join(parts) + ")"


def words_of(node) -> list[Phrase]:
    """The positive phrases of a tree (for highlighting)."""
    if isinstance(node, Phrase):
        return [node]
    if isinstance(node, Or):
        return [p for n in node.options for p in words_of(n)]
    return [p for n in node.positive for p in words_of(n)]


# -- highlighting ----------------------------------------------------------------------------------
# Done in Python on the original text for both backends: the stored text is what the reader
# sees, and fetching one body per hit is cheaper than FTS5 snippet() or ts_headline (both
# re-run the match per row). The text is folded character for character (same length, so
# offsets carry over) with textfold.fold's single-letter results, and the folded query words
# are found in it as literals. (Letters folding to two, like ß -> ss, are not highlighted.)

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
