"""HeadMetaRefreshMiddleware decides as Scrapy's MetaRefreshMiddleware does, from the page's
head only (real Scrapy middlewares and responses, side by side)."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares import HeadMetaRefreshMiddleware

URL = "https://www.rp.pl/dyplomacja/art1-x"
FILLER = "<p>Zażółć gęślą jaźń – treść artykułu.</p>\n" * 3000  # ~150 KB of Polish text


def _page(head_extra: str = "", body_extra: str = "", charset: bool = True) -> bytes:
    meta = '<meta charset="utf-8">' if charset else ""
    return (f"<!DOCTYPE html><html><head>{meta}<title>Tytuł</title>{head_extra}</head>"
            f"<body>{FILLER}{body_extra}</body></html>").encode()


def _both(body: bytes, content_type: str = "text/html; charset=utf-8"):
    crawler = get_crawler()
    results = []
    for cls in (MetaRefreshMiddleware, HeadMetaRefreshMiddleware):
        mw = cls.from_crawler(crawler)
        request = Request(URL)
        response = HtmlResponse(URL, body=body, headers={"Content-Type": content_type},
                                request=request)
        results.append((response, mw.process_response(request, response)))
    return results


@pytest.mark.parametrize("charset", [True, False])
def test_refresh_in_the_head_is_followed(charset):
    body = _page('<meta http-equiv="refresh" content="0; url=/dyplomacja/art2-y">',
                 charset=charset)
    (_, scrapy_result), (_, ours) = _both(
        body, "text/html; charset=utf-8" if charset else "text/html")
    assert isinstance(scrapy_result, Request) and isinstance(ours, Request)
    assert ours.url == scrapy_result.url == "https://www.rp.pl/dyplomacja/art2-y"


def test_page_without_refresh_is_the_same_response():
    for response, result in _both(_page()):
        assert result is response


def test_refresh_far_down_the_page_is_ignored_by_both():
    body = _page(body_extra='<meta http-equiv="refresh" content="0; url=/elsewhere">')
    for response, result in _both(body):
        assert result is response


def test_long_delay_is_not_followed():
    body = _page('<meta http-equiv="refresh" content="600; url=/dyplomacja/art2-y">')
    for response, result in _both(body):
        assert result is response
