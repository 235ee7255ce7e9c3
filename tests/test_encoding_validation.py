"""Decoding with wrong or missing charsets, and the checks that hold pages back as suspect."""

from __future__ import annotations

import pytest

from crawler.encoding import decode_page
from crawler.validation import page_problem

POLISH = "Zażółć gęślą jaźń. Ślązak, Źdźbło, Ąę i Łódź — „cytat”."
PAGE = f"<html><head><title>t</title></head><body><p>{POLISH}</p></body></html>"


@pytest.mark.parametrize("encoding", ["iso-8859-2", "windows-1250"])
@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/html", None])
def test_polish_8bit_pages_decode_to_the_same_text(encoding, content_type):
    raw = PAGE.replace("—", "-").replace("„", '"').replace("”", '"').encode(encoding)
    decoded = decode_page(raw, content_type)
    assert "Zażółć gęślą jaźń. Ślązak, Źdźbło, Ąę i Łódź" in decoded.text
    assert decoded.problem  # the wrong or missing declaration is reported


def test_utf8_needs_no_repair():
    decoded = decode_page(PAGE.encode("utf-8"), "text/html; charset=utf-8")
    assert decoded.text == PAGE and decoded.problem is None


def test_bytes_that_fit_nothing_are_flagged():
    raw = b"<html>\xff\xfe\x00\x81\x8d\x8f\x90\x9d</html>"
    decoded = decode_page(raw, "text/html; charset=utf-8")
    assert decoded.problem


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
