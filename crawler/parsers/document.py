"""Turning raw input into one parsed tree, plus the page-level metadata read once from it:
`<meta>` tags, `link rel=canonical` and the JSON-LD article object; and the rule for a page
whose download was cut off."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from crawler.parsers.decode import decode_html
from crawler.parsers.record import ParseError

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_TAG = re.compile(r"<\s*(?:!doctype|html|head|body|[a-zA-Z][a-zA-Z0-9]*[\s/>])", re.IGNORECASE)
# C0 controls other than tab/newline/carriage return/form feed: text or HTML never has many.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0b, *range(0x0e, 0x20)])


def _control_count(text: str) -> int:
    # Counted in UTF-8, where each is one byte that no other character's encoding contains:
    # bytes.translate deletes them three times faster than a regex finds them in Polish text.
    data = text.encode("utf-8", "surrogatepass")
    return len(data) - len(data.translate(None, _CONTROL_BYTES))


# The closing tags of a whole document, looked for in its last 8 KB (text or raw bytes).
_TAIL = 8192
_CLOSING_TEXT = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_CLOSING_BYTES = re.compile(rb"</(?:body|html)\s*>", re.IGNORECASE)


def is_truncated(page: str | bytes) -> bool:
    """The page stops before `</body>` and `</html>`: a cut-off download whose end is missing.
    The one rule for the parser (body_complete) and for crawl validation (suspect pages);
    a page cut after `</body>` has lost nothing."""
    closing = _CLOSING_BYTES if isinstance(page, bytes) else _CLOSING_TEXT
    return closing.search(page[-_TAIL:]) is None


_PARSERS = threading.local()


def _html_parser(utf8: bool = False) -> etree.HTMLParser:
    # One parser per thread: a parser object keeps state while it works, and the scheduler or
    # a test may parse from several threads.
    name = "utf8" if utf8 else "parser"
    parser = getattr(_PARSERS, name, None)
    if parser is None:
        parser = etree.HTMLParser(no_network=True, encoding="utf-8" if utf8 else None)
        setattr(_PARSERS, name, parser)
    return parser


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


_SPACE = re.compile(r"\s*")  # \s and str.strip() agree on what is whitespace
_NON_SPACE = re.compile(r"\S")


def _stripped_head(text: str, size: int) -> str:
    """`text.strip()[:size]` without `strip()`'s copy of the whole text (a page ends in a
    newline, so it always copies: half a millisecond for 460 KB)."""
    start = _SPACE.match(text).end()
    head = text[start:start + size]
    if _NON_SPACE.search(text, start + size) is None:
        head = head.rstrip()
    return head


class NotUTF8(ValueError):
    """Bytes declared UTF-8 are not, or libxml2 stopped reporting before it could tell (after
    100 errors of any kind): decode them (decode_html) and parse the text."""


# What libxml2 reports for bytes that are not UTF-8, and when it stops reporting at all (after
# 100 errors of any kind, so that an encoding error further on would go unseen).
_UTF8_DOUBTS = {"ERR_INVALID_ENCODING", "ERR_RESOURCE_LIMIT"}


def build_tree(data: str | bytes, utf8: bytes | None = None) -> tuple[str | bytes, etree._Element]:
    """Decode and parse once with lxml: (the page as parsed, root). Input that is not HTML at
    all is rejected with a clear ParseError. `utf8`: either the text `data` as the UTF-8 bytes
    it was strictly decoded from (no BOM), which libxml2 parses without converting the text
    back; or `data` itself, bytes that the HTTP header declared UTF-8 (no BOM), not decoded at
    all: libxml2 reads and checks them as it parses (the page is then returned as those
    bytes), and NotUTF8 is raised when they are not UTF-8. Decoding a 460 KB page first costs
    more than a tenth of the parse."""
    declared = utf8 is not None and data is utf8
    if isinstance(data, str):
        text = data
    elif declared:
        text = None
    elif isinstance(data, (bytes, bytearray, memoryview)):
        text = decode_html(data).text
    else:
        raise ParseError(f"expected HTML as str or bytes, got {type(data).__name__}")
    if text is None:
        # The checks below read the first 8 K characters (64 K at most): only the head is
        # decoded (a character cut at its end is dropped; libxml2 judges the bytes).
        text = _decoded_head(utf8, 8192)
        if _stripped_head(text, 5).lower().startswith(("{", "[", "<?xml")):
            # JSON, or an XML declaration: read as decoded text, like a page decoded first.
            try:
                text = utf8.decode("utf-8")
            except UnicodeDecodeError:
                raise NotUTF8("bytes declared UTF-8 are not valid UTF-8") from None
            declared = False
    sample = _stripped_head(text, 8192)
    if not sample:
        raise ParseError("empty input: no HTML to parse")
    # Binary data decoded as text is full of control characters and U+FFFD; a page with a few
    # bad bytes (a mis-declared charset) is not, and is parsed as far as it goes.
    if (_control_count(sample) > max(8, len(sample) // 100)
            or sample.count("\ufffd") > max(16, len(sample) // 10)):
        raise ParseError("input looks binary, not HTML")
    if sample[0] in "{[" and _is_json(text.strip()):
        raise ParseError("input is JSON, not HTML")
    if not _TAG.search(sample):
        if declared:
            text = _decoded_head(utf8, 8192 * 8)
        if not _TAG.search(_stripped_head(text, 8192 * 8)[8192:]):
            raise ParseError("input has no HTML tags (plain text?)")
    # lxml refuses str input that carries an XML encoding declaration; the text is decoded already.
    # (NUL characters need no cleaning: libxml2 turns them into U+FFFD.)
    if sample[:5].lower() == "<?xml":
        text = _XML_DECL.sub("", text, count=1)
        utf8 = None
    try:
        # Plain lxml elements, not lxml.html's HtmlElement: the latter looks up a Python class
        # for every element proxy, which is a fifth of the parser's time on a 150 KB page.
        # From str, lxml hands libxml2 the string's internal form (UCS-2/4 for Polish text) to
        # convert; the original UTF-8 bytes parse to the same tree a fifth faster.
        parser = _html_parser(utf8=utf8 is not None)
        root = etree.fromstring(text if utf8 is None else utf8, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        if declared and _doubts_utf8(parser):
            raise NotUTF8("bytes declared UTF-8 are not valid UTF-8") from exc
        raise ParseError(f"cannot parse HTML: {exc}") from exc
    if declared and _doubts_utf8(parser):
        raise NotUTF8("bytes declared UTF-8 are not valid UTF-8")
    if root is None or len(root) == 0 and not (root.text or "").strip():
        raise ParseError("HTML parsed to an empty document")
    return (utf8 if declared else text), root


def _decoded_head(utf8: bytes, chars: int) -> str:
    """The start of `utf8` decoded, holding at least `chars` characters after any leading
    whitespace (or all of it)."""
    size = chars * 2
    while True:
        head = utf8[:size].decode("utf-8", "ignore")
        if size >= len(utf8) or len(_stripped_head(head, chars)) >= chars:
            return head
        size *= 4


def _doubts_utf8(parser: etree.HTMLParser) -> bool:
    return any(entry.type_name in _UTF8_DOUBTS for entry in parser.error_log)


@dataclass
class PageMeta:
    """Head metadata, read once: meta tags by lower-cased name/property, canonical, JSON-LD."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    canonical: str | None = None
    head_attrs: dict[str, str] = field(default_factory=dict)
    jsonld: dict[str, Any] = field(default_factory=dict)

    def first(self, *names: str) -> str | None:
        for name in names:
            for value in self.meta.get(name, ()):
                if value and value.strip():
                    return value.strip()
        return None

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.meta.get(name, ()) if v and v.strip()]


_ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report",
    "scholarlyarticle", "techarticle", "socialmediaposting",
}
# meta and link from <head> (where the HTML parser puts them unless body content came first);
# JSON-LD from <head>, else from anywhere (some sites put it at the end of <body>).
_HEAD_NODES = etree.XPath(
    "/html/head/meta[@content] | /html/head/link[@rel][@href]"
    " | /html/head/script[@type='application/ld+json']"
)
_BODY_JSONLD = etree.XPath("/html/body//script[@type='application/ld+json']")


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.lower() for v in values if isinstance(v, str)}


def _article_objects(data: Any):
    """Yield JSON-LD objects typed as articles, looking into lists and @graph."""
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[0:0] = item
        elif isinstance(item, dict):
            if _types(item) & _ARTICLE_TYPES:
                yield item
            if "@graph" in item:
                stack.insert(0, item["@graph"])


def read_meta(root: etree._Element) -> PageMeta:
    page = PageMeta()
    head = root.find("head")
    if head is not None:
        page.head_attrs = dict(head.attrib)
    nodes = _HEAD_NODES(root)
    if not any(el.tag == "script" for el in nodes):
        nodes += _BODY_JSONLD(root)
    for el in nodes:
        tag = el.tag
        if tag == "meta":
            key = el.get("property") or el.get("name") or el.get("itemprop")
            if key:
                page.meta.setdefault(key.strip().lower(), []).append(el.get("content") or "")
        elif tag == "link":
            if page.canonical is None and "canonical" in (el.get("rel") or "").lower().split():
                page.canonical = (el.get("href") or "").strip() or None
        elif not page.jsonld:
            raw = (el.text or "").strip()
            if not raw:
                continue
            try:
                data = json.loads(raw, strict=False)
            except ValueError:
                continue  # broken JSON-LD is common; the other signals still work
            for obj in _article_objects(data):
                page.jsonld = obj
                break
    return page
