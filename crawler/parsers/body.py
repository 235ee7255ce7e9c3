"""The article body: text blocks of the configured body containers, in document order, with
the read-more cards collected as related links instead of text.

One recursive walk per container; what to skip (ads, embeds, captions, pull quotes, cards) is
found with one XPath union per container and looked up in a set while walking, so no element
is visited twice.
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
    return any(p.search(text) for p in profile.noise_blocks)


def related_from_card(card, profile: SiteProfile, base_url: str | None) -> RelatedLink | None:
    link = profile.sel("related_title").first(card)
    if link is None or not (link.get("href") or "").strip():
        # A card whose title link lost its class: the first link that carries text.
        link = next((a for a in card.iter("a") if a.get("href") and clean(a.text_content())), None)
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

    def add_container(self, container) -> None:
        profile = self.profile
        cards = profile.sel("related_card").union(container)
        for card in cards:
            self._add_related(related_from_card(card, profile, self.base_url))
        skip = set(profile.sel("body_skip").union(container))
        skip.update(cards)
        extra_blocks = set(profile.sel("body_block").union(container))
        self._walk(container, skip, extra_blocks)

    def _add_related(self, link: RelatedLink | None) -> None:
        # The same card can appear twice in one article (see fixture replica-readmore-twice).
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

    def _walk(self, node, skip: set, extra_blocks: set) -> None:
        block_tags = self.profile.block_tags
        skip_tags = self.profile.skip_tags
        for child in node:
            tag = child.tag
            if not isinstance(tag, str) or tag in skip_tags or child in skip:
                continue
            if tag in block_tags or child in extra_blocks:
                self._add_block(element_text(child, skip_tags, skip))
            else:
                self._walk(child, skip, extra_blocks)


def extract_body(containers, profile: SiteProfile, base_url: str | None) -> BodyResult:
    extractor = BodyExtractor(profile, base_url)
    for container in containers:
        extractor.add_container(container)
    return extractor.result
