"""Input handling: what is not an article page raises ParseError with a clear message, bytes
are decoded as a crawl decodes them (BOM, declared charset, Polish fallbacks), and broken
markup parses as far as it goes."""

from __future__ import annotations

import codecs

import pytest
from parser_cases import PAGES

from crawler.config import ConfigError
from crawler.parsers import ArticleRecord, ParseError, load_profile, parse_article
from crawler.parsers.document import NotUTF8

SEED = (PAGES / "handmade-rp-2025-seed" / "page.html").read_text(encoding="utf-8")
TITLE = "Sekretarz generalny NATO reaguje na pakt obronny zawarty przez Rosję i Koreę Północną"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "empty"),
        (b"", "empty"),
        ("   \n\t  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 8, "binary"),
        (b'{"title": "x", "body": "<p>not a page</p>"}', "JSON"),
        ('[{"a": 1}]', "JSON"),
        ("Just a line of plain text, no markup at all.\nAnother line.", "no HTML tags"),
        ("<html><head></head><body></body></html>", "no article content"),
        ("<html><body><div><span> </span></div></body></html>", "no article content"),
    ],
    ids=["empty-str", "empty-bytes", "whitespace", "binary", "json-object", "json-array",
         "plain-text", "empty-document", "no-text"],
)
def test_not_an_article_raises_parse_error(data, message):
    with pytest.raises(ParseError, match=message):
        parse_article(data, url="https://www.rp.pl/dyplomacja/art1-x")


def test_wrong_input_type_is_a_parse_error():
    with pytest.raises(ParseError, match="str or bytes"):
        parse_article(12345)  # type: ignore[arg-type]


def test_unknown_site_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="unknown site profile 'nosuchsite'"):
        parse_article(SEED, site="nosuchsite")


def test_profile_is_cached():
    assert load_profile("rp") is load_profile("rp")


@pytest.mark.parametrize(
    "encoded",
    [
        SEED.encode("utf-8"),
        codecs.BOM_UTF8 + SEED.encode("utf-8"),
        codecs.BOM_UTF16_LE + SEED.encode("utf-16-le"),
        SEED.replace('<meta charset="utf-8">', '<meta charset="iso-8859-2">').encode(
            "iso-8859-2", errors="xmlcharrefreplace"  # „” are not in Latin-2: char refs
        ),
        SEED.replace('<meta charset="utf-8">', '<meta charset="windows-1250">').encode(
            "cp1250", errors="xmlcharrefreplace"
        ),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "meta-iso-8859-2", "meta-cp1250"],
)
def test_bytes_are_decoded(encoded):
    record = parse_article(encoded)
    assert record.title == TITLE
    assert "Koreę Północną" in record.body


def test_bad_bytes_do_not_crash():
    data = SEED.encode("utf-8").replace(b"Stoltenberga", b"Stolten\xff\xfeberga")
    record = parse_article(data)
    assert record.title == TITLE
    assert "Stolten\ufffd\ufffdberga" in record.body


@pytest.mark.parametrize("encoding", ["cp1250", "iso-8859-2"])
def test_undeclared_legacy_charset_is_decoded_as_in_a_crawl(encoding):
    # A Polish 8-bit page without <meta charset>: read with the table that fits, as the crawl
    # reads it (tests/test_encoding_validation.py), not as UTF-8 with U+FFFD for the letters.
    data = SEED.replace('<meta charset="utf-8">', "").encode(encoding, errors="xmlcharrefreplace")
    record = parse_article(data)
    assert record.title == TITLE
    assert "Koreę Północną" in record.body


def test_unknown_declared_charset_falls_back_to_utf8():
    data = SEED.replace('<meta charset="utf-8">', '<meta charset="x-no-such">').encode("utf-8")
    assert parse_article(data).title == TITLE


def test_xml_declaration_is_accepted():
    record = parse_article('<?xml version="1.0" encoding="utf-8"?>\n' + SEED)
    assert record.title == TITLE


@pytest.mark.parametrize("cut", [2000, 6000, 8000, 10000])
def test_truncated_pages_parse_as_far_as_they_go(cut):
    record = parse_article(SEED[:cut])
    assert isinstance(record, ArticleRecord)
    assert record.title == TITLE
    assert record.body_complete is False or record.body is None


def test_unclosed_tags_and_stray_markup():
    page = (
        "<html><head><title>SEO</title><body><h1 class='article--title articleTitle'>Tytuł</h1>"
        "<div class='paywallAccessWrapper'><div class='body articleBody'><p>Pierwszy akapit"
        "<p>Drugi <b>akapit<p>Trzeci</i> akapit</span></div></div></body></html>"
    )
    record = parse_article(page, url="https://www.rp.pl/dyplomacja/art44000001-x")
    assert record.title == "Tytuł"
    assert record.body == "Pierwszy akapit\n\nDrugi akapit\n\nTrzeci akapit"
    assert record.article_id == "44000001"
    assert record.authors == []


def test_mangled_pages_never_crash():
    """Cut, spliced and vandalised copies of a page: a record or a ParseError, nothing else."""
    import random

    rng = random.Random(20240620)
    for _ in range(60):
        page = SEED
        op = rng.randrange(4)
        if op == 0:
            page = page[: rng.randrange(len(page))]
        elif op == 1:
            a = rng.randrange(len(page))
            page = page[:a] + page[a + rng.randrange(3000):]
        elif op == 2:
            chars = list(page)
            for _ in range(150):
                chars[rng.randrange(len(chars))] = rng.choice("<>/\"'=& \x00\ufffd")
            page = "".join(chars)
        else:
            page = page[rng.randrange(len(page)):]
        for site in ("rp", "generic"):
            try:
                record = parse_article(page, site=site)
            except ParseError:
                continue
            assert record.title or record.body


# -- bytes declared UTF-8 by their HTTP header: parsed without being decoded first -----------

def _declared(data: bytes, site: str = "rp"):
    return parse_article(data, url="https://www.rp.pl/dyplomacja/art40671561-x", site=site,
                         utf8=data)


@pytest.mark.parametrize("name", sorted(p.parent.name for p in PAGES.glob("*/page.html")))
def test_declared_utf8_bytes_give_the_record_of_the_decoded_text(name):
    raw = (PAGES / name / "page.html").read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(NotUTF8):
            _declared(raw)
        return
    for site in ("rp", "generic"):
        expected = parse_article(text, url="https://www.rp.pl/dyplomacja/art40671561-x",
                                 site=site, utf8=raw).to_dict()
        assert _declared(raw, site).to_dict() == expected


@pytest.mark.parametrize(
    "data",
    [
        SEED.encode("utf-8").replace(b"Stoltenberga", b"Stolten\xff\xfeberga"),
        SEED.encode("utf-8").replace(b"</html>", b"</html><!-- \xc5 -->"),  # after the end
        SEED.encode("iso-8859-2", errors="xmlcharrefreplace"),
        # Valid, but more than 100 markup errors: libxml2 stops reporting, so cannot vouch.
        SEED.encode("utf-8").replace(b"</body>", b"<foo><bar></x>" * 150 + b"</body>", 1),
    ],
    ids=["bad-bytes-in-body", "bad-byte-after-html", "latin-2", "after-100-errors"],
)
def test_declared_utf8_bytes_not_vouched_for_raise_not_utf8(data):
    with pytest.raises(NotUTF8):
        _declared(data)


def test_declared_utf8_json_and_xml_declaration_read_as_text():
    with pytest.raises(ParseError, match="JSON"):
        _declared(b'{"title": "x", "body": "<p>not a page</p>"}')
    assert _declared(('<?xml version="1.0" encoding="utf-8"?>\n' + SEED).encode()).title == TITLE


def test_declared_utf8_checks_read_past_leading_whitespace():
    # The input checks decode only the head of the bytes: enough of it past any whitespace.
    assert _declared(b" \n" * 60000 + SEED.encode()).title == TITLE
    with pytest.raises(ParseError, match="empty"):
        _declared(b" \n" * 60000)
