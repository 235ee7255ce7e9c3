"""The article body: which copy it is taken from (the configured containers of the full copy,
the paywall preview, or generic main-text extraction after a redesign) and whether it is
complete; its text blocks in document order, with the read-more cards collected as related
links instead of text.

One recursive walk per container. What to skip (ads, embeds, captions, pull quotes), which
elements are cards and which are extra blocks is decided per element while walking: by a
Python test for simple selectors, or by membership in one XPath union per container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from crawler.parsers.generic import generic_blocks
from crawler.parsers.page import FALLBACK, SELECTOR
from crawler.parsers.paywall import PaywallFields
from crawler.parsers.profile import SiteProfile
from crawler.parsers.record import RelatedLink
from crawler.parsers.text import clean, element_text

_COUNT_TEXT = etree.XPath(
    "count(//text()[contains(normalize-space(translate(., '\u00a0', ' ')), $needle)])"
)


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


class BodyFields(PaywallFields):
    def body(self, other_fields: set) -> tuple[BodyResult, bool, str | None]:
        """(body, body_complete, source). `other_fields`: values of the header fields, which
        generic extraction would otherwise repeat in the body."""
        profile = self.profile
        preview = self.preview
        containers = self.body_containers
        if containers:
            result = extract_body(containers, profile, self.base_url)
            if result.blocks:
                return result, not self._partial_layer(), SELECTOR
        if preview is not None:
            # Only the preview was served (hard paywall / non-subscriber copy).
            result = extract_body([preview], profile, self.base_url)
            if result.blocks:
                return result, False, SELECTOR
        if not profile.generic_body:
            return BodyResult(), True, None
        result = BodyResult(related=self._loose_related())
        seen: set[str] = set()
        repeated = False
        labels = tuple(v for k, v in profile.labels.items() if k in ("published", "updated"))
        prune = [
            x for key in ("body_skip", "related_card", "preview")
            if (x := profile.sel(key).expression)
        ]
        for block in generic_blocks(self.page_text, self.given_url, prune):
            if block in other_fields or (labels and block.startswith(labels)):
                continue
            if _is_noise(block, profile):
                continue
            if block in seen:
                repeated = True
                continue
            seen.add(block)
            result.blocks.append(block)
        # With a paywall marker, the text may be only the preview. The real site sends the
        # opening paragraphs twice when it sends the full copy (preview + full, rp-anatomy.md),
        # so an opening paragraph found twice on the page is the sign that the full copy was
        # there (fixture handmade-rp-redesign).
        complete = not (self.login_prompt or self._partial_layer()) and (
            not self._percent[1] or repeated or self._occurs_twice(result.blocks)
        )
        return result, complete, FALLBACK if result.blocks else None

    def _loose_related(self) -> list:
        """Read-more cards anywhere in the article when no body container was recognised."""
        links, seen = [], set()
        cards = self.profile.sel("related_card").union(self.scope)
        for card in cards:
            link = related_from_card(card, self.profile, self.base_url)
            if link is not None and link.url not in seen:
                seen.add(link.url)
                links.append(link)
        return links


    def _occurs_twice(self, blocks: list[str]) -> bool:
        if not blocks:
            return False
        snippet = blocks[0][:60]
        return _COUNT_TEXT(self.root, needle=snippet) >= 2
