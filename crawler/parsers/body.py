"""The article body: text blocks of the configured body containers, in document order, with
the read-more cards collected as related links instead of text.

One recursive walk per container. What to skip (ads, embeds, captions, pull quotes), which
elements are cards and which are extra blocks is decided per element while walking: by a
Python test for simple selectors, or by membership in one XPath union per container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from crawler.parsers.profile import SiteProfile
from crawler.parsers.record import RelatedLink
from crawler.parsers.text import clean, element_text


@dataclass
class BodyResult:
    blocks: list[str] = field(default_factory=list)
    related: list[RelatedLink] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        return "\n\n".join(self.blocks) or None


def _is_noise(text: str, profile: SiteProfile) -> bool:
    return profile.noise is not None and profile.noise.search(text) is not None


def related_from_card(card, profile: SiteProfile, base_url: str | None) -> RelatedLink | None:
    link = profile.sel("related_title").first(card)
    if link is None or not (link.get("href") or "").strip():
        # A card whose title link lost its class: the first link that carries text.
        texts = (a for a in card.iter("a") if a.get("href") and clean("".join(a.itertext())))
        link = next(texts, None)
    if link is None:
        return None
    title = element_text(link)
    href = (link.get("href") or "").strip()
    if not title or not href:
        return None
    return RelatedLink(title=title, url=urljoin(base_url or "", href))


class BodyExtractor:
    """Collects blocks and related cards over several containers, deduplicating both."""

    def __init__(self, profile: SiteProfile, base_url: str | None):
        self.profile = profile
        self.base_url = base_url
        self.result = BodyResult()
        self._seen_text: set[str] = set()
        self._seen_urls: set[str] = set()

    def _test(self, key: str, container):
        """A predicate for one relative selector: its Python matcher when the selector is
        simple, else membership in its XPath matches below this container."""
        sel = self.profile.sel(key)
        if sel.matcher is not None:
            return sel.matcher
        found = set(sel.union(container))
        return found.__contains__ if found else _never

    def add_container(self, container) -> None:
        self._walk(
            container,
            self._test("body_skip", container),
            self._test("related_card", container),
            self._test("body_block", container),
        )

    def _add_related(self, link: RelatedLink | None) -> None:
        # The same card can appear twice in one article (fixture replica-card-twice).
        if link is not None and link.url not in self._seen_urls:
            self._seen_urls.add(link.url)
            self.result.related.append(link)

    def _add_block(self, text: str) -> None:
        if not text or _is_noise(text, self.profile):
            return
        # Identical paragraphs repeated on the page appear once.
        if text in self._seen_text:
            return
        self._seen_text.add(text)
        self.result.blocks.append(text)

    def _walk(self, node, skip, card, extra_block) -> None:
        block_tags = self.profile.block_tags
        skip_tags = self.profile.skip_tags
        for child in node:
            tag = child.tag
            if not isinstance(tag, str) or tag in skip_tags:
                continue
            if card(child):
                # Read-more cards are links to other articles, never body text.
                self._add_related(related_from_card(child, self.profile, self.base_url))
            elif skip(child):
                continue
            elif tag in block_tags or extra_block(child):
                self._add_block(element_text(child, skip_tags, skip))
            else:
                self._walk(child, skip, card, extra_block)


def _never(_el) -> bool:
    return False


def extract_body(containers, profile: SiteProfile, base_url: str | None) -> BodyResult:
    extractor = BodyExtractor(profile, base_url)
    for container in containers:
        extractor.add_container(container)
    return extractor.result
