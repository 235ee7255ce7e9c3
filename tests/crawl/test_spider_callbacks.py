"""Scrapy's check for generator callbacks that return a value is switched off for crawls
(crawler/settings.py: it re-reads the callback's source during the crawl); it runs here
instead, once for every generator method of every spider."""

from __future__ import annotations

import inspect

from scrapy.utils.misc import is_generator_with_return_value

from crawler import settings
from crawler.spiders.rp import RpSpider
from crawler.spiders.site import NewsSpider, SiteSpider


def test_crawls_skip_scrapys_per_response_check():
    assert settings.WARN_ON_GENERATOR_RETURN_VALUE is False


def test_no_spider_generator_returns_a_value():
    checked = []
    for spider in (NewsSpider, SiteSpider, RpSpider):
        for name, method in inspect.getmembers(spider, inspect.isgeneratorfunction):
            assert not is_generator_with_return_value(method), f"{spider.__name__}.{name}"
            checked.append(name)
    # The callbacks a crawl runs are among them (a rename must not empty this test).
    assert {"parse_listing", "parse_sitemap", "parse_feed", "parse_article"} <= set(checked)
