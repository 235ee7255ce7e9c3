"""Diacritic and case folding for search: one normaliser for the index and for queries.

`fold("Łódź Północną gęślą")` -> "lodz polnocna gesla". Unicode decomposes most accented
letters (NFKD + dropping the combining marks takes care of ą, ę, ó, ś, ź, ż, ...), but a few
letters are separate characters with no decomposition: Polish ł/Ł above all, which is why
SQLite FTS5's `remove_diacritics 2` leaves "Północną" unreachable from "polnocna" (checked on
SQLite 3.40). `EXTRA_FOLDS` maps those.

The same table drives the database side (storage/fts.py writes that SQL), so index and query
cannot disagree:
- SQLite: the FTS5 triggers wrap each indexed value in nested `replace()` calls over
  EXTRA_FOLDS (plain SQL, so a write from the sqlite3 shell still indexes correctly); the
  `unicode61 remove_diacritics 2` tokenizer then strips the decomposable accents and
  lowercases, exactly as NFKD + casefold do here. Query terms reach FTS5 already folded by
  `fold()`.
- PostgreSQL: `unaccent` (whose rules include ł -> l, ø -> o, ß -> ss, ...) plus the `simple`
  dictionary (lowercase), and `translate()` over ONE_TO_ONE for anything unaccent misses.

Folding one character never changes the number of word tokens, so match positions found in
the folded text are the positions of the same words in the original text.
"""

from __future__ import annotations

import re
import unicodedata

# Letters without a Unicode decomposition, mapped to what a reader types without the accent.
EXTRA_FOLDS: dict[str, str] = {
    "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D",
    "ø": "o", "Ø": "O",
    "ħ": "h", "Ħ": "H",
    "ı": "i",
    "ŀ": "l", "Ŀ": "L",
    "ŧ": "t", "Ŧ": "T",
    "ß": "ss",
    "æ": "ae", "Æ": "AE",
    "œ": "oe", "Œ": "OE",
    "þ": "th", "Þ": "TH",
    "ð": "d", "Ð": "D",
}
_EXTRA = str.maketrans(EXTRA_FOLDS)
# Single-character replacements only: these keep the length (PostgreSQL translate() needs it).
ONE_TO_ONE = {k: v for k, v in EXTRA_FOLDS.items() if len(v) == 1}

# Letters and digits; underscore and everything else separate words (as in FTS5 unicode61).
_WORD = re.compile(r"[^\W_]+")


def fold(text: str | None) -> str:
    """Lowercase, accent-free form of `text` (None -> "")."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold()


def fold_words(text: str | None) -> list[str]:
    """The folded word tokens of `text`, split as the full-text tokenizers split them
    (letters and digits; everything else separates)."""
    return _WORD.findall(fold(text))

