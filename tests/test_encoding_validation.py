"""Decoding with wrong or missing charsets, and the checks that hold pages back as suspect."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from crawler.parsers import parse_article
from crawler.parsers.decode import decode_html
from crawler.validation import page_problem

POLISH = "Zażółć gęślą jaźń. Ślązak, Źdźbło, Ąę i Łódź — „cytat”."
PAGE = f"<html><head><title>t</title></head><body><p>{POLISH}</p></body></html>"


@pytest.mark.parametrize("encoding", ["iso-8859-2", "windows-1250"])
@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/html", None])
def test_polish_8bit_pages_decode_to_the_same_text(encoding, content_type):
    raw = PAGE.replace("—", "-").replace("„", '"').replace("”", '"').encode(encoding)
    decoded = decode_html(raw, content_type)
    assert "Zażółć gęślą jaźń. Ślązak, Źdźbło, Ąę i Łódź" in decoded.text
    assert decoded.problem  # the wrong or missing declaration is reported


def test_utf8_needs_no_repair():
    decoded = decode_html(PAGE.encode("utf-8"), "text/html; charset=utf-8")
    assert decoded.text == PAGE and decoded.problem is None


def test_bytes_that_fit_nothing_are_flagged():
    raw = b"<html>\xff\xfe\x00\x81\x8d\x8f\x90\x9d</html>"
    decoded = decode_html(raw, "text/html; charset=utf-8")
    assert decoded.problem


def test_a_byte_order_mark_wins_over_the_header():
    decoded = decode_html(codecs.BOM_UTF8 + PAGE.encode("utf-8"), "text/html; charset=windows-1250")
    assert decoded.text == PAGE and decoded.encoding == "utf-8"


def test_meta_charset_is_used_when_the_header_has_none():
    page = PAGE.replace("<head>", '<head><meta charset="windows-1250">')
    decoded = decode_html(page.encode("cp1250"), "text/html")
    assert decoded.text == page and decoded.problem is None


def test_a_wrong_header_gives_way_to_a_meta_charset_that_fits():
    page = PAGE.replace("<head>", '<head><meta charset="windows-1250">')
    decoded = decode_html(page.encode("cp1250"), "text/html; charset=utf-8")
    assert decoded.text == page
    assert decoded.problem == "declared utf-8, decoded as cp1250"


def test_windows_1250_quotes_and_letters_in_0x80_0x9f_survive():
    # „ ” — ś ź Ś Ź are bytes 0x80-0x9F in Windows-1250: no smart-quote rewriting of them.
    raw = PAGE.encode("cp1250")
    assert any(0x80 <= byte <= 0x9F for byte in raw)
    decoded = decode_html(raw)
    assert decoded.text == PAGE and decoded.encoding == "cp1250"


def test_utf8_with_a_few_bad_bytes_stays_utf8_and_is_suspect():
    raw = PAGE.encode("utf-8").replace("Łódź".encode(), b"\xc5\x81\xf3d\xc5\xba")  # ó in 8 bits
    decoded = decode_html(raw, "text/html; charset=utf-8")
    assert decoded.encoding == "utf-8" and "Ł\ufffddź" in decoded.text
    assert decoded.problem
    record = {**GOOD, "body": decoded.text}
    assert "mis-decoded" in page_problem(record, raw, "1", _ids)


def test_utf8_bytes_under_an_8bit_declaration_are_utf8():
    decoded = decode_html(PAGE.encode("utf-8"), "text/html; charset=windows-1250")
    assert decoded.text == PAGE
    assert decoded.problem == "declared cp1250, decoded as utf-8"


def test_latin1_declaration_reads_as_windows_1252():
    raw = b'<html><head><meta charset="iso-8859-1"></head><body>\x93cytat\x94</body></html>'
    assert "\u201ccytat\u201d" in decode_html(raw).text


def test_empty_bytes():
    decoded = decode_html(b"")
    assert decoded.text == "" and decoded.problem is None


def _ids(url):
    import re

    m = re.search(r"/dyplomacja/art(\d+)", url or "")
    return m.group(1) if m else None


GOOD = {"canonical_url": "https://www.rp.pl/dyplomacja/art1-x", "title": "T", "body": "B",
        "sources": {"title": "selector", "body": "selector"}}


def test_a_whole_article_page_passes():
    assert page_problem(GOOD, b"<html>...</html>\n", "1", _ids) is None


def test_truncated_page_is_suspect():
    assert "truncated" in page_problem(GOOD, b"<html><body><p>half", "1", _ids)


def test_canonical_of_another_article_is_suspect():
    assert "article 2" in page_problem({**GOOD, "canonical_url": "https://www.rp.pl/dyplomacja/art2-y"},
                                       b"</html>", "1", _ids)


def test_interstitial_without_canonical_or_headline_markup_is_suspect():
    record = {"title": "Zanim przejdziesz do serwisu", "body": "Zgoda",
              "sources": {"title": "fallback", "body": "fallback"}}
    assert "not an article page" in page_problem(record, b"</html>", "1", _ids)


def test_replacement_characters_are_suspect():
    record = {**GOOD, "body": "Wro\ufffdski"}
    assert "mis-decoded" in page_problem(record, b"</html>", "1", _ids)


SEED_PAGE = (Path(__file__).parent / "fixtures" / "pages" / "handmade-rp-2025-seed"
             / "page.html").read_bytes()


@pytest.mark.parametrize(
    ("cut", "truncated"),
    [(None, False), ("</body>", False), ("autorytarne siły", True)],
    ids=["whole", "cut-after-body", "cut-in-body"],
)
def test_one_truncation_rule_for_parser_and_validation(cut, truncated):
    end = cut and cut.encode()
    page = SEED_PAGE if end is None else SEED_PAGE[:SEED_PAGE.rindex(end) + len(end)]
    record = parse_article(page).to_dict()
    problem = page_problem(record, page, record["article_id"], _ids)
    assert (problem is not None and "truncated" in problem) is truncated
    assert record["body_complete"] is not truncated
