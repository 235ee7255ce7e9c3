"""The yardsticks of the crawl benchmark's CPU per article, run in a process of their own like
`newsmon crawl`, with the same politeness-off settings, against the same replica:

- floor: a plain Scrapy SitemapSpider that fetches the section's article pages (from the
  sitemap index, robots.txt obeyed as newsmon does) and does nothing with them: what Scrapy
  alone costs per page; with a third argument N, the same with CONCURRENT_ITEMS = N (newsmon's
  setting: Scrapy's default of 100 starts 100 asyncio tasks for every response);
- peer: the same spider extracting every page with trafilatura (`bare_extraction`, metadata on,
  as bench/parse_bench.py calls it) and a plain SQLite pipeline (one row and one commit per
  article): what a common Scrapy + extraction library stack costs.

    python -m bench.peer_spiders floor|peer BASE_URL SQLITE_PATH [CONCURRENT_ITEMS]

Prints one JSON line: {"spider": ..., "articles": pages archived (floor: article pages
fetched)}.
"""

from __future__ import annotations

import json
import sqlite3
import sys

from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider

ARTICLE_RULE = r"/dyplomacja/art\d+"


class FloorSpider(SitemapSpider):
    name = "floor"
    sitemap_follow = ["dyplomacja"]
    sitemap_rules = [(ARTICLE_RULE, "parse_article")]
    pages = 0

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.sitemap_urls = [base_url.rstrip("/") + "/sitemaps/sitemap.xml"]

    def parse_article(self, response):
        if response.status == 200:
            type(self).pages += 1
        return ()


class PeerSpider(FloorSpider):
    name = "peer"

    def parse_article(self, response):
        import trafilatura

        doc = trafilatura.bare_extraction(response.body, url=response.url, with_metadata=True)
        if doc is None:
            return
        yield {"url": response.url, "title": doc.title, "author": doc.author, "date": doc.date,
               "description": doc.description, "text": doc.text}


class SQLitePipeline:
    count = 0

    def open_spider(self, spider=None):
        self.db = sqlite3.connect(SQLitePipeline.path)
        self.db.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, "
                        "author TEXT, date TEXT, description TEXT, text TEXT)")

    def process_item(self, item, spider=None):
        self.db.execute("INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?)",
                        (item["url"], item["title"], item["author"], item["date"],
                         item["description"], item["text"]))
        self.db.commit()
        type(self).count += 1
        return item

    def close_spider(self, spider=None):
        self.db.close()


def main(kind: str, base_url: str, db_path: str, concurrent_items: str | None = None) -> None:
    from bench.crawl_bench import CRAWL_SETTINGS

    settings = {**CRAWL_SETTINGS, "ROBOTSTXT_OBEY": True, "COOKIES_ENABLED": False,
                "TELNETCONSOLE_ENABLED": False}
    if concurrent_items:
        settings["CONCURRENT_ITEMS"] = int(concurrent_items)
    if kind == "peer":
        SQLitePipeline.path = db_path
        settings["ITEM_PIPELINES"] = {f"{__name__}.SQLitePipeline": 300}
    spider = {"floor": FloorSpider, "peer": PeerSpider}[kind]
    process = CrawlerProcess(settings)
    process.crawl(spider, base_url=base_url)
    process.start()
    archived = SQLitePipeline.count if kind == "peer" else FloorSpider.pages
    print(json.dumps({"spider": kind, "articles": archived}), flush=True)



if __name__ == "__main__":
    main(*sys.argv[1:5])
