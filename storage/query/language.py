"""The search query language: the user's text parsed into a tree (no database, no SQL).

Syntax (documented in `newsmon search --help`):
    word            matches the word, case and Polish diacritics folded both ways
    stoltenb*       prefix
    "two words"     phrase (a trailing * makes its last word a prefix)
    a b / a AND b   both;  a OR b  either;  -a / NOT a  without;  ( ... ) grouping

Malformed input raises `QueryError`. Words in the tree are folded letters and digits only
(storage/textfold.py); each back end renders the tree into its own match expression
(search_sqlite.to_fts5, search_pg.to_tsquery), always passed as a bound parameter, so query
text never becomes SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.query.errors import QueryError
from storage.textfold import fold_words

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


def parse_phrase(text: str):
    """The tree of `text` taken as one phrase (an author or tag filter)."""
    return parse_query('"' + text.replace('"', " ") + '"')


def words_of(node) -> list[Phrase]:
    """The positive phrases of a tree (for highlighting)."""
    if isinstance(node, Phrase):
        return [node]
    if isinstance(node, Or):
        return [p for n in node.options for p in words_of(n)]
    return [p for n in node.positive for p in words_of(n)]
