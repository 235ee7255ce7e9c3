"""Site profiles for the parser: the `[selectors]`, `[labels]`, `[patterns]`, `[body]` and
`[paywall]` tables of `config/sites/<name>.toml`, compiled once per process.

A selector value is a CSS selector or a list of them; a list is tried in order and the first one
that matches wins (that is how both rp.pl template generations live side by side). A value
starting with "xpath:" is taken as raw XPath.

Dated variants: `[[variants]]` entries, each with `since` (a TOML date, midnight in the site's
time zone, or a date-time) and its own `selectors`, `labels`, `patterns`, `body` and `paywall`
tables, which override the undated tables (the base, in force from the beginning) key by key.
A page is parsed with the variant in force when it was fetched (`load_profile(name, at=...)`;
a crawl parses "now"), so a redesign is a new dated section and re-parsing an old page keeps
the template of its day. Every compiled variant carries a `fingerprint`: the package version,
the profile and variant, and a hash of its parser settings; the archive stores it per version.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache
from importlib import metadata
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssselect import HTMLTranslator, SelectorError, parse
from cssselect.parser import Attrib, Class, Element, Hash
from lxml import etree

from crawler.config import ConfigError, load_site_profile


class _FastTranslator(HTMLTranslator):
    """cssselect's class test (concat + normalize-space on every element) is the slowest part
    of a search on a 150 KB page; a plain substring test in front lets libxml2 skip the exact
    test for almost every element without changing the result."""

    def xpath_class(self, class_selector):
        xpath = self.xpath(class_selector.selector)
        name = self.xpath_literal(class_selector.class_name)
        exact = self.xpath_literal(" " + class_selector.class_name + " ")
        return xpath.add_condition(
            f"contains(@class, {name}) and "
            f"contains(concat(' ', normalize-space(@class), ' '), {exact})"
        )


_CSS = _FastTranslator()
# "#some-id" or "tag#some-id": answered by XPath id(), which uses the parser's id table
# instead of testing every element's attribute.
_ID_ONLY = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)?#([A-Za-z][\w-]*)$")


@dataclass(frozen=True)
class ElementMatcher:
    """A Python-side test for lists of one-part selectors (`tag`, `.class`, `#id`,
    `[class*='part']`), used while walking the body so that no extra tree search is needed."""

    tags: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    class_parts: tuple[str, ...] = ()
    # (attribute, operator, value) for [a], [a=v], [a^=v], [a*=v] on other attributes
    attributes: tuple[tuple[str, str, str], ...] = ()

    def __call__(self, el) -> bool:
        if el.tag in self.tags:
            return True
        cls = el.get("class")
        if cls:
            if self.classes and not self.classes.isdisjoint(cls.split()):
                return True
            for part in self.class_parts:
                if part in cls:
                    return True
        if self.ids and el.get("id") in self.ids:
            return True
        for name, op, value in self.attributes:
            got = el.get(name)
            if got is not None and (
                op == "exists" or (op == "=" and got == value)
                or (op == "^=" and got.startswith(value)) or (op == "*=" and value in got)
            ):
                return True
        return False


def _matcher(values: list[str]) -> ElementMatcher | None:
    """An ElementMatcher when every selector is one simple part, else None (XPath is used)."""
    tags, classes, ids, parts, attributes = set(), set(), set(), [], []
    for value in values:
        if value.strip().startswith("xpath:"):
            return None
        try:
            selectors = parse(value)
        except SelectorError:
            return None
        for sel in selectors:
            tree = sel.parsed_tree
            if sel.pseudo_element is not None:
                return None
            if isinstance(tree, Element) and tree.element and not tree.namespace:
                tags.add(tree.element.lower())
            elif isinstance(tree, (Class, Hash, Attrib)) and _universal(tree.selector):
                if isinstance(tree, Class):
                    classes.add(tree.class_name)
                elif isinstance(tree, Hash):
                    ids.add(tree.id)
                elif tree.attrib == "class" and tree.operator == "*=" and tree.value is not None:
                    parts.append(tree.value.value)
                elif tree.operator in ("exists", "=", "^=", "*=") and not tree.namespace:
                    value = tree.value.value if tree.value is not None else ""
                    attributes.append((tree.attrib, tree.operator, value))
                else:
                    return None
            else:
                return None
    return ElementMatcher(
        frozenset(tags), frozenset(classes), frozenset(ids), tuple(parts), tuple(attributes)
    )


def _universal(tree) -> bool:
    return isinstance(tree, Element) and tree.element is None and not tree.namespace


@dataclass(frozen=True)
class Selector:
    """One configured selector: alternatives tried in order, each precompiled to XPath."""

    key: str
    alternatives: tuple[etree.XPath, ...] = ()
    combined: etree.XPath | None = None  # all alternatives as one XPath union, one tree walk
    expression: str | None = None  # the union's XPath text (handed to trafilatura's pruning)
    matcher: ElementMatcher | None = None  # Python test, when every part is simple
    # Per alternative, an XPath for its first match only (_first_only).
    firsts: tuple[etree.XPath, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.alternatives)

    def all(self, node) -> list:
        """Matches of the first alternative that matches anything, in document order."""
        for xpath in self.alternatives:
            found = xpath(node)
            if found:
                return found
        return []

    def first(self, node):
        """all(node)[0] (None when nothing matches), by searches that stop at the first hit."""
        for xpath in self.firsts:
            found = xpath(node)
            if found:
                return found[0]
        return None

    def union(self, node) -> list:
        """Matches of every alternative at once (for exclusion lists), in document order."""
        return self.combined(node) if self.combined is not None else []


def _merged_group(text: str, relative: bool) -> str | None:
    """A group of `tag.class` selectors with one tag ("div.blog--image, div.article--image",
    one per template generation) as ONE walk testing either class, instead of a union that
    walks the tree once per member."""
    try:
        group = parse(text)
    except SelectorError:
        return None
    if len(group) < 2:
        return None
    tags, tests = set(), []
    for sel in group:
        tree = sel.parsed_tree
        if sel.pseudo_element is not None or not isinstance(tree, Class):
            return None
        inner = tree.selector
        if not isinstance(inner, Element) or not inner.element or inner.namespace:
            return None
        tags.add(inner.element.lower())
        name = _CSS.xpath_literal(tree.class_name)
        exact = _CSS.xpath_literal(f" {tree.class_name} ")
        tests.append(
            f"(contains(@class, {name}) and "
            f"contains(concat(' ', normalize-space(@class), ' '), {exact}))"
        )
    if len(tags) != 1:
        return None
    prefix = "descendant::" if relative else "descendant-or-self::"
    return f"{prefix}{tags.pop()}[{' or '.join(tests)}]"


def _to_xpath(key: str, text: str, relative: bool) -> str:
    text = text.strip()
    try:
        if text.startswith("xpath:"):
            expr = text[len("xpath:"):].strip()
        elif not relative and (m := _ID_ONLY.match(text)):
            expr = f"id('{m.group(2)}')" + (f"[self::{m.group(1).lower()}]" if m.group(1) else "")
        elif merged := _merged_group(text, relative):
            expr = merged
        else:
            # Relative selectors are searched below the context node, absolute ones in the document.
            prefix = "descendant::" if relative else "descendant-or-self::"
            expr = _CSS.css_to_xpath(text, prefix=prefix)
        etree.XPath(expr)
        return expr
    except (SelectorError, etree.XPathSyntaxError) as exc:
        raise ConfigError(f"selector {key!r}: cannot compile {text!r}: {exc}") from exc


def _single_step(expr: str) -> bool:
    """`expr` is one descendant(-or-self) step: no '/' or '|' outside predicates and quotes."""
    if not expr.startswith(("descendant-or-self::", "descendant::")):
        return False
    depth, quote = 0, None
    for char in expr:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif depth == 0 and char in "/|":
            return False
    return True


def _first_only(expr: str) -> etree.XPath:
    """An XPath for the first match of `expr` in document order. For one descendant step,
    `step[1]` is that node, and libxml2 stops walking at it: the lead or the image box near
    the top of the article column is found in a few microseconds instead of the ~50 it takes
    to test every element below it. Other forms are searched in full (the caller takes [0])."""
    return etree.XPath(f"{expr}[1]" if _single_step(expr) else expr)


def compile_selector(key: str, value: str | list[str] | None, relative: bool = False) -> Selector:
    if value is None or value == "":
        return Selector(key)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"selector {key!r}: expected a string or a list of strings")
    exprs = [_to_xpath(key, v, relative) for v in values if v.strip()]
    if not exprs:
        return Selector(key)
    union = " | ".join(f"({e})" if " | " in e else e for e in exprs)
    return Selector(
        key, tuple(etree.XPath(e) for e in exprs), etree.XPath(union), union,
        _matcher(values) if relative else None, tuple(_first_only(e) for e in exprs),
    )


def _compile_pattern(key: str, value: str | None) -> re.Pattern | None:
    if not value:
        return None
    try:
        return re.compile(value, re.IGNORECASE | re.UNICODE)
    except re.error as exc:
        raise ConfigError(f"pattern {key!r}: {exc}") from exc


def _compile_patterns(key: str, values: list[str] | None) -> tuple[re.Pattern, ...]:
    return tuple(p for i, v in enumerate(values or []) if (p := _compile_pattern(f"{key}[{i}]", v)))


# Selectors searched in the whole document / below another matched element. Keys absent from a
# profile compile to empty selectors, which simply find nothing (the field then falls back).
_DOCUMENT_SELECTORS = (
    "scope", "title", "lead", "published", "updated_box", "updated", "author_box",
    "breadcrumb", "image_box", "tags", "body", "preview", "paywall_marker", "paywall_layer",
    "paywall_info",
)
_RELATIVE_SELECTORS = (
    "author_link", "image_img", "image_caption", "image_credit", "body_skip", "body_block",
    "related_card", "related_title",
)


@dataclass(frozen=True)
class SiteProfile:
    name: str
    base_url: str | None
    timezone: ZoneInfo | None
    id_pattern: re.Pattern | None
    selectors: dict[str, Selector]
    block_tags: frozenset[str]
    skip_tags: frozenset[str]
    patterns: dict[str, re.Pattern | None] = field(default_factory=dict)
    # Literal visible labels ("Publikacja:") used to find text when selectors fail, and the
    # label + date regexes built from them.
    labels: dict[str, str] = field(default_factory=dict)
    label_dates: dict[str, re.Pattern] = field(default_factory=dict)
    # [patterns].noise_blocks as one alternation: one search per block
    noise: re.Pattern | None = None
    paywall_head_attribute: str | None = None
    # Attribute of the paywall layer naming its type, and the types that mean the server sent
    # only part of the body.
    layer_type_attribute: str | None = None
    partial_layer_types: frozenset[str] = frozenset()
    jsonld_access: bool = True
    generic_body: bool = True
    # Which parser settings these are (see the module docstring): stored with every version.
    variant: str = "base"
    fingerprint: str = ""

    def sel(self, key: str) -> Selector:
        return self.selectors[key]


# The tables of a profile that the parser reads, and the [site] keys it uses: what a variant may
# override and what the fingerprint hashes.
PARSER_TABLES = ("selectors", "labels", "patterns", "body", "paywall")
_PARSER_SITE_KEYS = ("base_url", "timezone", "id_pattern")
_VARIANT_KEYS = {"since", "name", *PARSER_TABLES}


def package_version() -> str:
    try:
        return metadata.version("newsmon")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return "0+unknown"


def fingerprint(name: str, raw: dict[str, Any], variant: str = "base") -> str:
    """`<package version>:<profile>@<variant>:<12 hex digits>`, the digits a sha256 of the
    parser settings of `raw` (PARSER_TABLES and the [site] keys the parser uses)."""
    site = raw.get("site") or {}
    settings = {"site": {k: site.get(k) for k in _PARSER_SITE_KEYS},
                **{table: raw.get(table) or {} for table in PARSER_TABLES}}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, ensure_ascii=False,
                                       default=str).encode("utf-8")).hexdigest()[:12]
    return f"{package_version()}:{name}@{variant}:{digest}"[-64:]


def build_profile(name: str, raw: dict[str, Any], variant: str = "base") -> SiteProfile:
    site = raw.get("site") or {}
    sels = raw.get("selectors") or {}
    pats = raw.get("patterns") or {}
    body = raw.get("body") or {}
    paywall = raw.get("paywall") or {}
    unknown = set(sels) - set(_DOCUMENT_SELECTORS) - set(_RELATIVE_SELECTORS)
    if unknown:
        raise ConfigError(f"site {name!r}: unknown selector keys {sorted(unknown)}")
    selectors = {k: compile_selector(k, sels.get(k)) for k in _DOCUMENT_SELECTORS}
    selectors.update(
        {k: compile_selector(k, sels.get(k), relative=True) for k in _RELATIVE_SELECTORS}
    )
    labels = {k: str(v) for k, v in (raw.get("labels") or {}).items() if v}
    date = _compile_pattern("date", pats.get("date"))
    label_dates = {
        k: re.compile(re.escape(v) + r"\s*" + date.pattern, re.IGNORECASE)
        for k, v in labels.items()
        if date is not None and k in ("published", "updated")
    }
    noise = _compile_patterns("noise_blocks", pats.get("noise_blocks"))
    tz_name = site.get("timezone") or None
    try:
        tz = ZoneInfo(tz_name) if tz_name else None
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"site {name!r}: unknown timezone {tz_name!r}") from exc
    return SiteProfile(
        name=name,
        base_url=site.get("base_url") or None,
        timezone=tz,
        id_pattern=_compile_pattern("site.id_pattern", site.get("id_pattern")),
        selectors=selectors,
        block_tags=frozenset(body.get("block_tags") or ("p", "h2", "h3", "h4", "h5", "h6", "li")),
        skip_tags=frozenset(body.get("skip_tags") or ("script", "style", "noscript", "template")),
        patterns={
            key: _compile_pattern(key, pats.get(key))
            for key in (
                "date", "paywall_percent", "credit_prefix", "author_prefix", "author_split",
                "hidden_style", "tag_split",
            )
        },
        labels=labels,
        label_dates=label_dates,
        noise=re.compile("|".join(f"(?:{p.pattern})" for p in noise), re.IGNORECASE)
        if noise else None,
        paywall_head_attribute=paywall.get("head_attribute") or None,
        layer_type_attribute=paywall.get("layer_type_attribute") or None,
        partial_layer_types=frozenset(paywall.get("partial_layer_types") or ()),
        jsonld_access=bool(paywall.get("jsonld_access", True)),
        generic_body=bool(body.get("generic_fallback", True)),
        variant=variant,
        fingerprint=fingerprint(name, raw, variant),
    )


def _since(value: Any, tz, where: str) -> datetime:
    """A variant's `since` as an aware instant: a date is midnight in the site's time zone, a
    date-time without an offset is the site's wall time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value \
                else date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{where}: since {value!r} is not a date") from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz or UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=tz or UTC)
    raise ConfigError(f"{where}: since must be a date or a date-time, not {value!r}")


def build_variants(name: str, raw: dict[str, Any]) -> tuple[tuple[datetime | None, SiteProfile],
                                                            ...]:
    """(since, compiled profile) of the base (since None) and of every dated variant, oldest
    first. A variant's tables override the base's key by key."""
    base = {k: v for k, v in raw.items() if k != "variants"}
    variants = raw.get("variants") or []
    if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
        raise ConfigError(f"site {name!r}: variants must be an array of tables ([[variants]])")
    compiled = [(None, build_profile(name, base))]
    tz = compiled[0][1].timezone
    seen: list[datetime] = []
    for i, entry in enumerate(variants):
        where = f"site {name!r}: variants[{i}]"
        unknown = set(entry) - _VARIANT_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (a variant has since, "
                              f"name and the tables {', '.join(PARSER_TABLES)})")
        if "since" not in entry:
            raise ConfigError(f"{where}: no since (the date from which it applies)")
        since = _since(entry["since"], tz, where)
        if seen and since <= seen[-1]:
            raise ConfigError(f"{where}: variants must be listed oldest first, each with a "
                              "later since")
        seen.append(since)
        merged = dict(base)
        for table in PARSER_TABLES:
            merged[table] = {**(base.get(table) or {}), **(entry.get(table) or {})}
        label = str(entry.get("name") or since.date().isoformat())
        compiled.append((since, build_profile(name, merged, label)))
    return tuple(compiled)


@cache
def profile_variants(name: str) -> tuple[tuple[datetime | None, SiteProfile], ...]:
    """The compiled variants of a site's profile (build_variants); cached, so selectors
    compile once per process."""
    try:
        raw = load_site_profile(name)
    except ConfigError as exc:
        if "not found" in str(exc):
            raise ConfigError(f"unknown site profile {name!r} ({exc})") from exc
        raise
    return build_variants(name, raw)


def select_variant(variants, at: datetime | None = None) -> SiteProfile:
    """The variant in force at `at` (aware; naive is UTC; None: now)."""
    at = datetime.now(UTC) if at is None else at if at.tzinfo else at.replace(tzinfo=UTC)
    starts = [since for since, _ in variants[1:]]
    return variants[bisect.bisect_right(starts, at)][1]


def load_profile(name: str, at: datetime | None = None) -> SiteProfile:
    """The compiled parser profile of a site as it applies at `at` (default: now)."""
    return select_variant(profile_variants(name), at)
