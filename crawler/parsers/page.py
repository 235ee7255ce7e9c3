"""What every field extractor of an article page shares: the parsed page (tree, head metadata,
JSON-LD, profile), the search scope, the selector lookups that build the layout signature, and
the `sources` bookkeeping. The fields themselves are in article.py (identity, headline, lead,
authors, tags, assembly), dates.py, paywall.py, body.py and images.py."""

from __future__ import annotations

from functools import cached_property
from urllib.parse import urljoin

from lxml import etree

from crawler.parsers.document import PageMeta, read_meta
from crawler.parsers.profile import SiteProfile
from crawler.parsers.text import clean, element_text

# Text nodes holding a label, for the fallbacks after a redesign; only run when the label
# occurs in the raw HTML at all, so ordinary pages never pay for this whole-tree search.
_TEXT_WITH = etree.XPath("//text()[contains(., $needle)]")

# The signals a value can come from, recorded in `record.sources`.
VISIBLE, SELECTOR, PATTERN, JSONLD, META, FALLBACK = (
    "visible", "selector", "pattern", "jsonld", "meta", "fallback",
)


def ld_str(value) -> str | None:
    """A JSON-LD value as text: the first of a list, the name/url/@id of an object."""
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("url") or value.get("@id")
    return clean(value) if isinstance(value, str) and clean(value) else None


def dedupe(items) -> list[str]:
    """Non-empty items in order, each once (case-insensitively: "AFD" and "AfD" are one tag)."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            out.append(item)
    return out


class PageBase:
    def __init__(self, html: str | bytes, root, profile: SiteProfile, url: str | None):
        # The page as parsed: its text, or its UTF-8 bytes when libxml2 read those directly
        # (crawler/parsers/document.py: build_tree).
        self.html = html
        self.root = root
        self.profile = profile
        self.given_url = (url or "").strip() or None
        self.meta: PageMeta = read_meta(root)
        self.ld = self.meta.jsonld
        self.sources: dict[str, str] = {}
        self.layout: set[str] = set()
        # Matches of each selector in the scope, searched once (the headline's selector is
        # searched while choosing the scope and again for the title).
        self._in_scope: dict[str, list] = {}
        # First matches in the scope, for selectors only ever asked for one (_match_first).
        self._first_in_scope: dict[str, object] = {}
        self.scope = self._find_scope()

    def _find_scope(self):
        """The part of the page the page-level selectors search: the configured `scope` (the
        article column), trusted only when it holds the headline; else the whole document.
        Searching a third of a 150 KB page instead of all of it is most of the parser's
        speed budget (see tests/parser/test_parser_speed.py)."""
        scope = self.profile.sel("scope").first(self.root)
        if scope is None or scope is self.root:
            return self.root
        titles = self.profile.sel("title").all(scope)
        if self.profile.sel("title") and not titles:
            return self.root
        self._in_scope["title"] = titles
        self.layout.add("page:scope")
        return scope

    def _set(self, name: str, value, source: str):
        if value not in (None, "", [], {}):
            self.sources[name] = source
        return value

    def _first_signal(self, name: str, *signals):
        """The first non-empty value of `signals`, (source, function) pairs tried in order,
        recorded under its source; None when none gives one."""
        for source, get in signals:
            value = get()
            if value:
                return self._set(name, value, source)
        return None

    def _match(self, field: str, key: str, node=None) -> list:
        """Matches of selector `key` below `node` (default: the scope); a hit enters the layout
        signature under `field`, the field the selector is searched for."""
        if node is not None:
            found = self.profile.sel(key).all(node)
        elif (found := self._in_scope.get(key)) is None:
            found = self._in_scope[key] = self.profile.sel(key).all(self.scope)
        if found:
            self.layout.add(f"{field}:{key}")
        return found

    def _match_first(self, field: str, key: str, node=None):
        """The first match of `key`, as _match(...)[0], by a search that stops at it (most of
        these elements sit near the top of the article column) unless all matches are known."""
        if node is not None:
            found = self.profile.sel(key).first(node)
        elif (matches := self._in_scope.get(key)) is not None:
            found = matches[0] if matches else None
        elif key in self._first_in_scope:
            found = self._first_in_scope[key]
        else:
            found = self._first_in_scope[key] = self.profile.sel(key).first(self.scope)
        if found is not None:
            self.layout.add(f"{field}:{key}")
        return found

    def _first_text(self, field: str, key: str, scope=None) -> str | None:
        el = self._match_first(field, key, scope)
        return element_text(el, self.profile.skip_tags) or None if el is not None else None

    def _text_nodes_with(self, label: str | None) -> list:
        if not label:
            return []
        if (label.encode() if isinstance(self.html, bytes) else label) not in self.html:
            return []
        return _TEXT_WITH(self.root, needle=label)

    @cached_property
    def page_text(self) -> str:
        """The whole page as text."""
        html = self.html
        return html.decode("utf-8", "replace") if isinstance(html, bytes) else html

    def _label_holder(self, node):
        """The element whose visible text a text node is: for a tail, the parent of the element
        it follows ("Publikacja:" is the tail of the hidden update span, fixture
        handmade-rp-redesign)."""
        holder = node.getparent()
        return holder.getparent() if holder is not None and node.is_tail else holder

    def _hidden(self, el) -> bool:
        hidden = self.profile.patterns.get("hidden_style")
        while el is not None:
            if el.get("hidden") is not None:
                return True
            if hidden is not None and hidden.search(el.get("style") or ""):
                return True
            el = el.getparent()
        return False

    @cached_property
    def canonical_url(self) -> str | None:
        base = self.given_url or self.profile.base_url or ""
        if self.meta.canonical:
            return self._set("canonical_url", urljoin(base, self.meta.canonical), META)
        return None

    @cached_property
    def base_url(self) -> str | None:
        """What relative links of the page resolve against."""
        return self.canonical_url or self.given_url or self.profile.base_url
