"""The parser's output: one article page as plain data, independent of Scrapy and storage."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

# Bump when a parser change alters what is extracted; stored with every version so that
# history can be re-derived from the kept raw HTML with a better parser later.
PARSER_VERSION = "1"


def _plain(value: Any) -> Any:
    """What dataclasses.asdict makes of a value (dataclasses as dicts, containers copied, other
    values deep-copied), with strings, numbers and None passed through as they are: asdict's
    generic path for every leaf (a deepcopy call per string) was most of its ~80 µs per
    article."""
    if value is None or isinstance(value, (str, int, float)):
        return value  # immutable: deepcopy returns the same object
    kind = type(value)
    if kind is list:
        return [_plain(v) for v in value]
    if kind is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    if kind is tuple:
        return tuple(_plain(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return copy.deepcopy(value)


class ParseError(ValueError):
    """The input is not an article page we can read at all (empty, not HTML, no content)."""


@dataclass
class Image:
    url: str | None = None
    caption: str | None = None
    credit: str | None = None  # without the "Foto:" prefix


@dataclass
class RelatedLink:
    title: str
    url: str


@dataclass
class ArticleRecord:
    url: str
    canonical_url: str | None = None
    article_id: str | None = None
    site: str | None = None  # the profile that parsed the page (parse_article sets it)
    section: str | None = None
    title: str | None = None
    lead: str | None = None
    body: str | None = None  # blocks separated by one blank line
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None  # ISO 8601 with offset (Europe/Warsaw)
    updated_at: str | None = None
    paywalled: bool = False
    paywall_percent: int | None = None
    body_complete: bool = True
    tags: list[str] = field(default_factory=list)
    image: Image | None = None
    related: list[RelatedLink] = field(default_factory=list)
    word_count: int = 0
    # field name (or image part: "image.caption") -> signal that produced it: visible, jsonld,
    # meta, selector, pattern, fallback; plus "layout": the page's layout signature, a sorted
    # list of "field:selector" entries (crawler/parsers/article.py)
    sources: dict[str, Any] = field(default_factory=dict)
    parser_version: str = PARSER_VERSION

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleRecord:
        data = dict(data)
        image = data.get("image")
        if isinstance(image, dict):
            data["image"] = Image(**image)
        data["related"] = [
            r if isinstance(r, RelatedLink) else RelatedLink(**r) for r in data.get("related") or []
        ]
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})
