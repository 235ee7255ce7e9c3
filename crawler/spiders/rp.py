"""`scrapy crawl rp`: the site spider on the profile config/sites/rp.toml (Rzeczpospolita)."""

from crawler.spiders.site import SiteSpider


class RpSpider(SiteSpider):
    name = "rp"
    site = "rp"
