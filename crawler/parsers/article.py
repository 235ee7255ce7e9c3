"""The article page object: one small method per field, each trying its signals in order
(configured selector → visible text pattern → JSON-LD → meta → generic fallback) and recording
which one produced the value in `record.sources`.

`record.sources["layout"]` is the page's layout signature: the profile selectors that matched,
as sorted "field:selector" entries (the field a selector serves; "page" for the article frame).
It depends on the page's markup only, not on furniture (ads and rotating widgets are never
searched for), so the archive can tell a value an editor removed (only that field's selectors
stop matching) from one a redesign lost (selectors of other fields move too); see
storage/versioning.py."""

from __future__ import annotations

from crawler.parsers.body import BodyFields
from crawler.parsers.dates import DateFields
from crawler.parsers.document import build_tree
from crawler.parsers.images import ImageFields
from crawler.parsers.page import FALLBACK, JSONLD, META, PATTERN, SELECTOR, dedupe, ld_str
from crawler.parsers.profile import SiteProfile, load_profile
from crawler.parsers.record import ArticleRecord, ParseError
from crawler.parsers.text import clean, element_text, iso, word_count
from crawler.sites import default_site


class ArticlePage(BodyFields, DateFields, ImageFields):
    """One article page; the field groups are mixed in from their modules (page.py says what
    they share)."""

    # -- identity and header -------------------------------------------------------------------

    def url(self) -> str:
        return self.given_url or self.canonical_url or self.meta.first("og:url") or ld_str(
            self.ld.get("url")) or ""

    def article_id(self) -> str | None:
        pattern = self.profile.id_pattern
        if pattern is None:
            return None
        for candidate in (self.canonical_url, self.given_url, self.url()):
            m = pattern.search(candidate or "")
            if m:
                value = m.groupdict().get("article_id") or m.group(m.lastindex or 0)
                return self._set("article_id", value, PATTERN)
        return None

    def section(self) -> str | None:
        value = ld_str(self.ld.get("articleSection"))
        if value:
            return self._set("section", value, JSONLD)
        crumbs = self._match("section", "breadcrumb")
        for el in reversed(crumbs):
            text = element_text(el)
            if text:
                return self._set("section", text, SELECTOR)
        return self._set("section", self.meta.first("article:section"), META)

    def title(self) -> str | None:
        # Never og:title or <title>: on rp.pl both differ from the headline (social / SEO titles).
        def h1() -> str | None:
            el = self.root.find(".//h1")
            return element_text(el) or None if el is not None else None

        return self._first_signal(
            "title", (SELECTOR, lambda: self._first_text("title", "title")),
            (JSONLD, lambda: ld_str(self.ld.get("headline"))), (FALLBACK, h1))

    def lead(self) -> str | None:
        return self._first_signal(
            "lead", (SELECTOR, lambda: self._first_text("lead", "lead")),
            (JSONLD, lambda: ld_str(self.ld.get("description"))),
            (META, lambda: self.meta.first("description", "og:description")))

    # -- people and dates ----------------------------------------------------------------------

    def authors(self) -> list[str]:
        profile = self.profile
        prefix = profile.patterns.get("author_prefix")
        split = profile.patterns.get("author_split")
        names: list[str] = []
        for box in self._match("authors", "author_box"):
            links = self._match("authors", "author_link", box)
            names.extend(element_text(a) for a in links)
            # Plain names and bare initials ("arb" in the seed) sit as text beside or instead
            # of links.
            rest = element_text(box, profile.skip_tags, set(links))
            if prefix is not None:
                rest = prefix.sub("", rest)
            parts = split.split(rest) if split is not None else [rest]
            names.extend(clean(p).strip(",;") for p in parts)
        names = dedupe(n for n in names if n)
        if names:
            return self._set("authors", names, SELECTOR)
        authors = self.ld.get("author")
        authors = authors if isinstance(authors, list) else [authors] if authors else []
        names = dedupe(ld_str(a) for a in authors if not isinstance(a, str) or "://" not in a)
        if names:
            return self._set("authors", names, JSONLD)
        metas = self.meta.all("author") or self.meta.all("article:author")
        names = dedupe(clean(m) for m in metas if "://" not in m)
        return self._set("authors", names, META) or []


    def tags(self) -> list[str]:
        els = self._match("tags", "tags")
        tags = dedupe(element_text(el) for el in els)
        if tags:
            return self._set("tags", tags, SELECTOR)
        split = self.profile.patterns.get("tag_split")
        raw = self.meta.all("mrf:tags") + self.meta.all("article:tag") or self.meta.all("keywords")
        values: list[str] = []
        for value in raw:
            values.extend(split.split(value) if split is not None else [value])
        tags = dedupe(clean(v) for v in values)
        if tags:
            return self._set("tags", tags, META)
        keywords = self.ld.get("keywords")
        if isinstance(keywords, str):
            keywords = split.split(keywords) if split is not None else [keywords]
        if isinstance(keywords, list):
            tags = dedupe(clean(k) for k in keywords if isinstance(k, str))
            return self._set("tags", tags, JSONLD) or []
        return []


    # -- assembly ------------------------------------------------------------------------------

    def record(self) -> ArticleRecord:
        title, lead, authors, image = self.title(), self.lead(), self.authors(), self.image()
        header = {title, lead, *authors}
        if image is not None:
            header.update((image.caption, f"Foto: {image.credit}" if image.credit else None))
        body, complete, body_source = self.body(header)
        text = body.text
        if not title and not text:
            raise ParseError("no article content found: neither a title nor any body text")
        if body_source:
            self.sources["body"] = body_source
        paywalled, percent = self.paywall(body_source)
        if self.truncated and text:
            complete = False
            self.sources["body_complete"] = PATTERN
        elif not complete:
            self.sources["body_complete"] = body_source or SELECTOR
        if body.related:
            self.sources["related"] = SELECTOR
            # Cards are recognised while the body is walked (body.py), not by a search here.
            self.layout.add("related:related_card")
        published = self.published_at()
        record = ArticleRecord(
            url=self.url(),
            canonical_url=self.canonical_url,
            article_id=self.article_id(),
            site=self.profile.name,
            section=self.section(),
            title=title,
            lead=lead,
            body=text,
            authors=authors,
            published_at=iso(published),
            updated_at=iso(self.updated_at(published)),
            paywalled=paywalled,
            paywall_percent=percent,
            body_complete=complete,
            tags=self.tags(),
            image=image,
            related=body.related,
            word_count=word_count(text),
        )
        record.sources = dict(sorted({**self.sources, "layout": sorted(self.layout)}.items()))
        return record


def parse_article(
    html: str | bytes, url: str | None = None, site: str | SiteProfile | None = None,
    *, utf8: bytes | None = None,
) -> ArticleRecord:
    """Parse one article page into an ArticleRecord.

    `html` may be text or raw bytes (decoded as in a crawl: crawler/parsers/decode.py);
    `url` is where the page was fetched (the canonical URL is used when absent); `site` names a
    profile in config/sites/ (default: the configured site, [crawl].site) or is a SiteProfile
    built with `build_profile`. Raises ParseError for input that is not a readable article page
    and crawler.config.ConfigError for an unknown or broken profile. `utf8`: the text `html`
    as the UTF-8 bytes it was strictly decoded from, when the caller has them; or `html`
    itself, bytes that their HTTP header declared UTF-8 (a crawl): parsed without decoding
    them first, NotUTF8 (crawler/parsers/document.py) raised when they are not UTF-8.
    """
    profile = site if isinstance(site, SiteProfile) else load_profile(site or default_site())
    text, root = build_tree(html, utf8)
    return ArticlePage(text, root, profile, url).record()
