"""Decoding fetched pages. A page whose bytes do not match its declared charset (ISO-8859-2 or
Windows-1250 served as UTF-8, or no declaration at all) must not be archived as mojibake: we
decode strictly, and when the declaration is wrong or absent we try the encodings Polish sites
have used and keep the one that decodes cleanly and reads as Polish."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_.:-]+)", re.I)
# What Polish letters become when decoded with the other 8-bit table: ISO-8859-2 read as
# Windows-1250 turns ą ś ź Ą Ś Ź into ± ¶ Ľ ˇ ¦ ¬; the reverse gives š, Ľ and C1 controls.
_MOJIBAKE = re.compile("[±¶Ľˇ¦¬š\u0080-\u009f]")
_POLISH = re.compile("[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")

DEFAULT_FALLBACKS = ("utf-8", "windows-1250", "iso-8859-2")


class Decoded:
    __slots__ = ("text", "encoding", "declared", "problem")

    def __init__(self, text: str, encoding: str, declared: str | None, problem: str | None):
        self.text, self.encoding, self.declared, self.problem = text, encoding, declared, problem


def _normal(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The charset the server claims: BOM, then the HTTP header, then <meta> (browser order)."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match and _normal(match.group(1)):
            return _normal(match.group(1))
    match = _META_CHARSET.search(body[:4096])
    return _normal(match.group(1).decode("ascii", "replace")) if match else None


def _score(text: str) -> int:
    return len(_POLISH.findall(text)) - 5 * len(_MOJIBAKE.findall(text))


def decode_page(body: bytes, content_type: str | None = None,
                fallbacks: tuple[str, ...] = DEFAULT_FALLBACKS) -> Decoded:
    """Text of `body` with the encoding that really fits it. `problem` is set when the
    declaration was wrong or missing (worth recording) or when nothing decodes cleanly
    (the text then holds replacement characters and must not become a version)."""
    declared = declared_charset(body, content_type)
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8):]
    if declared:
        try:
            return Decoded(body.decode(declared), declared, declared, None)
        except UnicodeDecodeError:
            pass
    candidates = []
    for name in fallbacks:
        encoding = _normal(name)
        if not encoding or encoding == declared:
            continue
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8":  # strict UTF-8 success is conclusive
            candidates = [(1 << 30, encoding, text)]
            break
        candidates.append((_score(text), encoding, text))
    what = f"declared {declared}" if declared else "no charset declared"
    if candidates:
        _score_value, encoding, text = max(candidates, key=lambda c: c[0])
        problem = None if (declared is None and encoding == "utf-8") else (
            f"{what}, decoded as {encoding}")
        return Decoded(text, encoding, declared, problem)
    encoding = declared or "utf-8"
    return Decoded(body.decode(encoding, errors="replace"), encoding, declared,
                   f"{what}; no encoding decodes cleanly")
