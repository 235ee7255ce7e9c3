"""Bytes of a page to text: the one decoder for crawls (the spider passes the HTTP Content-Type)
and for `newsmon parse` / `parse_article(bytes)` (no header). Lives in the parsers package so
that both share it without the parsers depending on Scrapy. A crawl skips it for a page whose
header declares UTF-8: libxml2 parses those bytes as they are and reports any that are not
UTF-8, and only then is the page decoded here (crawler/parsers/document.py, build_tree).

bs4's UnicodeDammit walks the candidates strictly, in browser order: the byte-order mark, the
charset of the HTTP header, the one in `<meta>` or the XML declaration, then the encodings
Polish sites have used. A strict decode that succeeds is not yet the right one, so two checks
of our own follow when no declaration fits:
- a page whose bytes are mostly valid UTF-8 is UTF-8 with a few bad bytes, read with
  replacement characters (which hold it back as suspect in a crawl, crawler/validation.py)
  rather than as an 8-bit table's mojibake;
- Windows-1250 decodes nearly every ISO-8859-2 page without error, and ISO-8859-2 decodes
  any bytes at all, so between the two the text that reads as Polish wins.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# Order matters: strict UTF-8 success is conclusive, and ISO-8859-2 maps every byte, so
# UnicodeDammit always stops here and never reaches its statistical detection step
# (charset_normalizer: ~25 ms on a 150 KB page, five times the whole parse, and it reads
# Polish ISO-8859-2 as Nordic ISO-8859-10).
POLISH_ENCODINGS = ("utf-8", "windows-1250", "iso-8859-2")
_POLISH_8BIT = ("cp1250", "iso8859-2")

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_.:-]+)", re.I)
# What Polish letters become when decoded with the other 8-bit table: ISO-8859-2 read as
# Windows-1250 turns ą ś ź Ą Ś Ź into ± ¶ Ľ ˇ ¦ ¬; the reverse gives š, Ľ and C1 controls.
_MOJIBAKE = re.compile("[±¶Ľˇ¦¬š\u0080-\u009f]")
_POLISH = re.compile("[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")
_NON_ASCII = bytes(range(0x80, 0x100))


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the codec that produced `text` (Python's name: utf-8, cp1250, iso8859-2)
    declared: str | None  # what the BOM, header or <meta> claimed, first of them; None: nothing
    # Set when the declaration was wrong or missing, or bytes had to be replaced: worth a
    # warning, and replacement characters keep a crawled page from becoming a version.
    problem: str | None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    # A page declaring Latin-1 is in practice Windows-1252 (the WHATWG rule browsers follow).
    return "cp1252" if codec == "iso8859-1" else codec


def _header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def declares_utf8(content_type: str | None) -> bool:
    """The HTTP Content-Type names UTF-8 as the charset."""
    return _codec(_header_charset(content_type)) == "utf-8"


def _score(text: str) -> int:
    return len(_POLISH.findall(text)) - 5 * len(_MOJIBAKE.findall(text))


def _mostly_utf8(body: bytes) -> bool:
    """More non-ASCII characters decode as valid UTF-8 sequences than fail to. Text in an 8-bit
    table almost never forms a valid multi-byte sequence (a Polish letter is one byte followed
    by ASCII), so this tells a damaged UTF-8 page from a legacy one."""
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    non_ascii_chars = len(text) - len(body.translate(None, _NON_ASCII))  # minus ASCII bytes
    return non_ascii_chars - bad > bad


def decode_html(data: bytes, content_type: str | None = None) -> Decoded:
    """Text of the page `data` with the encoding that really fits it; `content_type` is the
    HTTP header when there is one."""
    data = bytes(data)
    # Imported here: bs4 (with soupsieve) is 50 ms of start-up, and a crawl decodes only pages
    # that are not declared UTF-8 (crawler/spiders/site.py).
    from bs4.dammit import EncodingDetector, UnicodeDammit

    if not data:  # UnicodeDammit takes an empty result for a failure and retries noisily
        return Decoded("", "utf-8", None, None)
    bom = EncodingDetector.strip_byte_order_mark(data)[1]
    meta = EncodingDetector.find_declared_encoding(data, is_html=True)
    definite: list[str] = []
    for name in (bom, _header_charset(content_type), meta):
        codec = _codec(name)
        if codec and codec not in definite:
            definite.append(codec)
    declared = definite[0] if definite else None
    # smart_quotes_to stays None: it rewrites bytes 0x80-0x9F before decoding, which are
    # letters (ś ź Ś Ź) in Windows-1250 and the mojibake signal in ISO-8859-2.
    dammit = UnicodeDammit(data, known_definite_encodings=definite,
                           user_encodings=POLISH_ENCODINGS, is_html=True)
    body = dammit.markup  # without the BOM
    encoding, text = _codec(dammit.original_encoding), dammit.unicode_markup
    replaced = False
    if not encoding.startswith("utf"):
        if _mostly_utf8(body):
            text = body.decode("utf-8", errors="replace")
            encoding, replaced = "utf-8", "\ufffd" in text
        elif encoding not in definite:
            candidates = []
            for name in _POLISH_8BIT:
                try:
                    candidates.append((_score(decoded := body.decode(name)), name, decoded))
                except UnicodeDecodeError:
                    continue
            _, encoding, text = max(candidates, key=lambda c: c[0])
    what = f"declared {declared}" if declared else "no charset declared"
    if replaced:
        problem = f"{what}; bytes that are not UTF-8 replaced"
    elif encoding == declared or (declared is None and encoding == "utf-8"):
        problem = None
    else:
        problem = f"{what}, decoded as {encoding}"
    return Decoded(text, encoding, declared, problem)
