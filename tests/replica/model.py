"""Content model of the replica: articles made of blocks, plus the ground truth a parser must find.

An `Article` holds content only (what an editor would change). Page furniture (ads, related lists,
block ids, script noise) is derived at render time from `furniture_seed`, so reshuffling it never
touches the ground truth.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")
RP = "https://www.rp.pl"  # replaced by the server's base URL when a page is served

TAG_RE = re.compile(r"<[^>]+>")
WS_RE = re.compile(r"\s+")


@lru_cache(maxsize=50_000)  # teaser leads are stripped again on every page that shows them
def plain(inline_html: str) -> str:
    """Ground-truth text of an inline HTML fragment: tags dropped, entities decoded, &nbsp; and
    runs of whitespace folded to one space."""
    text = html.unescape(TAG_RE.sub("", inline_html)).replace("\xa0", " ")
    return WS_RE.sub(" ", text).strip()


def warsaw_iso(dt: datetime) -> str:
    """Naive Warsaw wall time -> ISO 8601 with the offset in force then (+01:00 / +02:00)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=WARSAW)
    return dt.isoformat(timespec="seconds")


def visible_time(dt: datetime) -> str:
    return dt.strftime("%d.%m.%Y %H:%M")


@dataclass(frozen=True)
class Card:
    """A "Czytaj więcej" card pointing at another article (content, part of the ground truth)."""

    title: str
    path: str  # site-relative, e.g. /polityka/art41999870-...
    label: str = "Dyplomacja"  # section label above the title; "" = none shown
    label_path: str = "/wydarzenia/swiat/dyplomacja"
    lead: str = ""


@dataclass(frozen=True)
class Block:
    """One body block. `html` is inline markup (may hold <a>, <span>, &nbsp;).

    kinds: p, h2, list (items), question (interview question heading), card, quote (pull quote
    with attribution), embed (iframe src), infographic (title + credit), split (2025: ends one
    articleBody container and starts another after an ad row; 2026: a breaker placeholder).
    """

    kind: str
    html: str = ""
    items: tuple[str, ...] = ()
    card: Card | None = None
    attribution: str = ""
    src: str = ""
    title: str = ""
    credit: str = ""

    def texts(self) -> list[str]:
        """The plain texts this block contributes to the article body (ground truth)."""
        if self.kind in ("p", "h2", "question"):
            return [plain(self.html)]
        if self.kind == "list":
            return [plain(i) for i in self.items]
        return []


@dataclass(frozen=True)
class Author:
    name: str
    author_id: int | None = None  # None: shown as bare text (initials, agency), no link

    @property
    def path(self) -> str | None:
        if self.author_id is None:
            return None
        from .text import slugify

        return f"/autor/{self.author_id}-{slugify(self.name)}"


@dataclass(frozen=True)
class Image:
    url: str
    caption: str = ""
    credit: str = ""  # without "Foto: "


# Paywall modes (see README): what the server sends and what a parser should conclude.
PAYWALL_MODES = ("open", "meter", "layer", "layer_partial", "hard")


@dataclass(eq=False)
class Article:
    article_id: str
    slug: str
    title: str
    lead: str
    published: datetime  # Warsaw wall time, naive
    template: str = "2026"  # "2025" (blog--* header) | "2026" (article--* header)
    section_slug: str = "dyplomacja"
    section_label: str = "Dyplomacja"
    authors: list[Author] = field(default_factory=list)
    updated: datetime | None = None  # time held by the "Aktualizacja" span
    update_visible: bool = False  # False: span rendered with style="display: none"
    jsonld_dates: dict[str, datetime] | None = None  # override of the derived JSON-LD dates
    paywall: str = "open"
    paywall_percent: int | None = None
    marker_style: str = "jeszcze"  # "jeszcze": "Pozostało jeszcze N%", "plain": "Pozostało N%"
    preview_paragraphs: int = 1  # paragraphs copied into the preview / hard-paywall page
    partial_blocks: int = 4  # layer_partial: body blocks the server sends
    tags: list[str] = field(default_factory=list)
    image: Image | None = None
    og_title: str = ""
    seo_title: str = ""
    related_items: list[tuple[str, str, str]] | None = None  # fixed tab items (label, title, path)
    # Where canonical, og:url and JSON-LD url point when not at `path`: a path of the site in
    # another section ("/swiat/art…", served there too, as rp.pl does) or an absolute URL on
    # another host (syndicated copy). None: the article's own path.
    canonical: str | None = None
    furniture_seed: int = 0
    last_modified: datetime = field(default_factory=lambda: datetime(2024, 1, 1, tzinfo=UTC))
    removed: int | None = None  # 404/410 while removed
    preview_only: bool = False  # serve the 2025 page as a non-subscriber sees it
    version: int = 0
    cases: tuple[str, ...] = ()  # required cases this article covers (documentation, tests)
    blocks_factory: Callable[[], list[Block]] | None = field(default=None, repr=False)
    _blocks: list[Block] | None = field(default=None, repr=False)

    # Content fields: what the fingerprint (ETag) covers. Furniture_seed is added separately.
    CONTENT = ("article_id", "slug", "title", "lead", "published", "template", "section_slug",
               "section_label", "authors", "updated", "update_visible", "jsonld_dates", "paywall",
               "paywall_percent", "marker_style", "preview_paragraphs", "partial_blocks", "tags",
               "image", "og_title", "seo_title", "related_items", "removed", "preview_only",
               "canonical")

    @property
    def blocks(self) -> list[Block]:
        # Generated sites build bodies lazily: 5,000 articles start in milliseconds.
        if self._blocks is None:
            self._blocks = self.blocks_factory() if self.blocks_factory else []
        return self._blocks

    @blocks.setter
    def blocks(self, value: list[Block]) -> None:
        self._blocks = list(value)

    @property
    def path(self) -> str:
        return f"/{self.section_slug}/art{self.article_id}-{self.slug}"

    def url(self, base_url: str = RP) -> str:
        return base_url + self.path

    def canonical_url(self, base_url: str = RP) -> str:
        """The page's canonical link (og:url and JSON-LD url agree with it)."""
        if self.canonical is None:
            return self.url(base_url)
        return base_url + self.canonical if self.canonical.startswith("/") else self.canonical

    @property
    def served_sections(self) -> tuple[str, ...]:
        """Section slugs the article is served under: its own, and its canonical link's."""
        if self.canonical and self.canonical.startswith("/"):
            return (self.section_slug, self.canonical.rsplit("/art", 1)[0].strip("/"))
        return (self.section_slug,)

    def snapshot(self) -> Article:
        """A copy safe to render outside the site lock (blocks are immutable)."""
        kw = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        kw["_blocks"] = list(self.blocks)
        kw["authors"] = list(self.authors)
        kw["tags"] = list(self.tags)
        return Article(**kw)

    def fingerprint(self) -> str:
        """Hash of the content state + furniture seed: the page's ETag and render-cache key."""
        state = {name: getattr(self, name) for name in self.CONTENT}
        state["blocks"] = self.blocks
        state["furniture_seed"] = self.furniture_seed
        raw = json.dumps(state, default=repr, sort_keys=True, ensure_ascii=False)
        return hashlib.sha1(raw.encode()).hexdigest()[:20]

    # --- derived facts ---------------------------------------------------------------------

    @property
    def preview_served(self) -> bool:
        """Only the preview reaches the page: hard paywall, or a 2025 metered page served to a
        non-subscriber. (The marker and the preview copy belong to the 2025 template; a 2026
        page in "meter" mode behaves like "layer".)"""
        return self.paywall == "hard" or (
            self.preview_only and self.paywall == "meter" and self.template == "2025")

    @property
    def body_complete(self) -> bool:
        return not (self.preview_served or self.paywall == "layer_partial")

    @property
    def paywalled(self) -> bool:
        return self.paywall != "open"

    def preview_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "p"][: self.preview_paragraphs]

    def served_blocks(self) -> list[Block]:
        """The body blocks that reach the reader's HTML in the current serve mode."""
        if self.preview_served:
            return self.preview_blocks()
        if self.paywall == "layer_partial":
            return self.blocks[: self.partial_blocks]
        return self.blocks

    def shows_marker(self) -> bool:
        return (self.paywall == "meter" and self.template == "2025"
                and self.paywall_percent is not None)

    def jsonld_date_values(self) -> dict[str, datetime]:
        """JSON-LD dates as the real pages get them wrong (docs/rp-anatomy.md): 2026 pages put
        the update into datePublished/dateModified and the publication into dateCreated; 2025
        pages show no update at all."""
        if self.jsonld_dates:
            return dict(self.jsonld_dates)
        if self.template == "2026" and self.updated:
            return {"datePublished": self.updated, "dateCreated": self.published,
                    "dateModified": self.updated}
        return {"datePublished": self.published, "dateCreated": self.published,
                "dateModified": self.published}

    def expected_record(self, base_url: str = RP, link_base: str | None = None) -> dict:
        """What a correct parser extracts from the page as currently served (ArticleRecord keys
        plus `body_blocks`). Body = paragraphs, subheadings, list items and interview questions
        in document order; not read-more cards, pull quotes, embeds, infographics or ads.
        `base_url` is where the page is fetched; `link_base` the base its canonical link names
        (default: the same; https://www.rp.pl when the server keeps the real site's links),
        against which a parser resolves the relative links of the read-more cards."""
        link_base = link_base or base_url
        body_blocks = [t for b in self.served_blocks() for t in b.texts()]
        body = "\n\n".join(body_blocks)
        related, seen = [], set()
        for b in self.served_blocks():
            if b.kind == "card" and b.card and b.card.path not in seen:
                seen.add(b.card.path)
                related.append({"title": b.card.title, "url": link_base + b.card.path})
        updated = self.updated if (self.updated and self.update_visible) else None
        return {
            "url": self.url(base_url),
            "canonical_url": self.canonical_url(link_base),
            "article_id": self.article_id,
            "site": "rp",
            "section": self.section_label,
            "title": plain(self.title),
            "lead": plain(self.lead),
            "body": body,
            "body_blocks": body_blocks,
            "authors": [a.name for a in self.authors],
            "published_at": warsaw_iso(self.published),
            "updated_at": warsaw_iso(updated) if updated else None,
            "paywalled": self.paywalled,
            "paywall_percent": self.paywall_percent if self.shows_marker() else None,
            "body_complete": self.body_complete,
            "tags": list(self.tags),
            "image": (
                {"url": self.image.url, "caption": self.image.caption,
                 "credit": self.image.credit} if self.image else None
            ),
            "related": related,
            "word_count": len(body.split()),
        }
