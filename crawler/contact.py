"""The crawler's User-Agent and the operator contact in it.

Site operators must be able to reach whoever runs a crawler: `[crawl].contact` of the
configuration (a URL or an e-mail address) goes into the User-Agent. The project ships
without one, so a crawl of a public site whose User-Agent names no contact (or only the
project's placeholder address) logs a warning when the spider opens. Crawls of loopback and
private addresses (the test replica, a local mirror) are not warned about: no third party
sees them. Only the base URL's literal host is judged, with no DNS lookup: a name other than
localhost counts as public."""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import urlsplit

from scrapy import signals

logger = logging.getLogger(__name__)

USER_AGENT_PRODUCT = "newsmon/0.1"
# The address the project shipped in its User-Agent before the contact became a setting: it
# reaches nobody who runs the crawl, so it counts as no contact.
PLACEHOLDER_CONTACTS = frozenset({"https://github.com/newsmon/newsmon"})

_URL = re.compile(r"https?://[^\s;()]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def user_agent(contact: str | None) -> str:
    """The User-Agent header for a contact (URL or e-mail), or one that says there is none."""
    contact = (contact or "").strip()
    if not contact:
        return f"{USER_AGENT_PRODUCT} (news archive monitor; no operator contact configured)"
    return f"{USER_AGENT_PRODUCT} (+{contact}; news archive monitor)"


def user_agent_contacts(header: str) -> list[str]:
    """The URLs and e-mail addresses in a User-Agent that reach someone (placeholders left out)."""
    # "+" is the User-Agent convention that marks a contact, not part of an e-mail address.
    emails = [e.lstrip("+") for e in _EMAIL.findall(_URL.sub(" ", header))]
    found = _URL.findall(header) + emails
    return [c for c in found if c.rstrip("/") not in PLACEHOLDER_CONTACTS]


def is_local_target(base_url: str) -> bool:
    """True for a loopback, private or link-local address, or localhost: not a public site."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def contact_warning(header: str, base_url: str) -> str | None:
    """The startup warning for a crawl of `base_url` sending this User-Agent, or None."""
    if is_local_target(base_url) or user_agent_contacts(header):
        return None
    return (f"the User-Agent names no operator contact ({header!r}) while crawling "
            f"{base_url}: set [crawl].contact (in newsmon.toml of the user or project "
            f"configuration, `newsmon init` writes one, or NEWSMON_CRAWL__CONTACT) to a URL "
            f"or e-mail address where the site's operators can reach you")


class ContactCheck:
    """Scrapy extension: logs contact_warning when the spider opens (every entry point)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self, spider) -> None:
        # The host the crawl talks to: the spider's own URL rules (crawler/urls.py).
        base_url = spider.rules.base_url
        warning = contact_warning(self.crawler.settings.get("USER_AGENT", ""), base_url)
        if warning:
            logger.warning(warning)
