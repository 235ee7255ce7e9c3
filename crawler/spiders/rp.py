"""`scrapy crawl rp`: the news spider on the profile config/sites/rp.toml (Rzeczpospolita)."""

from crawler.spiders.site import NewsSpider


class RpSpider(NewsSpider):
    name = "rp"
    site = "rp"
