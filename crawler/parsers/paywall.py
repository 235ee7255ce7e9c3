"""What the server sent: the full copy, only a preview (hard paywall, the 2026 layer that says
the body was cut), or a download cut short; and the paywall flag and the share of the article
behind it ("Pozostało 82% artykułu"), each with the signal that decided it."""

from __future__ import annotations

from functools import cached_property

from crawler.parsers.document import is_truncated
from crawler.parsers.page import JSONLD, META, PATTERN, SELECTOR, PageBase
from crawler.parsers.text import element_text


def _inside(el, ancestor) -> bool:
    while el is not None:
        if el is ancestor:
            return True
        el = el.getparent()
    return False


class PaywallFields(PageBase):
    @cached_property
    def body_containers(self) -> list:
        """The configured body containers of the full copy (never inside the preview)."""
        preview = self.preview
        return [
            c for c in self._match("body", "body")
            if preview is None or not _inside(c, preview)
        ]

    @property
    def template_recognised(self) -> bool:
        return bool(self.body_containers) or self.preview is not None

    @cached_property
    def login_prompt(self) -> bool:
        """The hard paywall's login prompt ("Masz aktywną subskrypcję? Zaloguj się ...") is
        on the page: only a preview was served. Checked by text, so it survives redesigns."""
        return any(not self._hidden(n.getparent())
                   for n in self._text_nodes_with(self.profile.labels.get("login_prompt")))

    @cached_property
    def truncated(self) -> bool:
        """The input stops before `</body>`/`</html>`: a cut-off download, whose end (marker,
        preview, rest of the body) is missing (fixture handmade-rp-truncated)."""
        return is_truncated(self.html)

    @cached_property
    def preview(self):
        el = self._match_first("paywalled", "preview")
        return el if el is not None and len(el) else None

    @cached_property
    def _percent(self) -> tuple[int | None, bool, str | None]:
        """(percent, marker present, source)."""
        regex = self.profile.patterns.get("paywall_percent")
        marker = self._match_first("paywalled", "paywall_marker")
        texts: list[tuple[str, str]] = []
        if marker is not None:
            texts.append((element_text(marker), SELECTOR))
        elif not self.template_recognised:
            # Search the visible text only after a redesign: on a recognised template the
            # marker's own element is reliable, and most pages have no marker at all.
            for node in self._text_nodes_with(self.profile.labels.get("paywall")):
                texts.append((element_text(self._label_holder(node)), PATTERN))
        for text, source in texts:
            m = regex.search(text) if regex is not None else None
            if m:
                return max(0, min(100, int(m.group(1)))), True, source
        if marker is not None:
            return None, True, SELECTOR
        return None, False, None

    def paywall(self, body_source: str | None) -> tuple[bool, int | None]:
        percent, marker, source = self._percent
        if percent is not None:
            self.sources["paywall_percent"] = source
        if marker or self.preview is not None:
            return self._set("paywalled", True, source or SELECTOR), percent
        attr = self.profile.paywall_head_attribute
        flag = self.meta.head_attrs.get(attr, "").strip().lower() if attr else ""
        if flag in ("true", "false"):
            return self._set("paywalled", flag == "true", META), percent
        if self.login_prompt:
            return self._set("paywalled", True, PATTERN), percent
        if self._match("paywalled", "paywall_info"):
            # The meter's data element (data-paywall-info): an analytics hook that keeps its
            # name when classes change (fixture replica-seed-redesign).
            return self._set("paywalled", True, SELECTOR), percent
        if body_source == SELECTOR and not self.truncated:
            # The known template rendered with no preview and no marker: a page served in full.
            self.sources["paywalled"] = SELECTOR
            return False, percent
        if self.profile.jsonld_access and self._ld_not_free():
            # isAccessibleForFree is false even on rp.pl pages served in full, so it only
            # decides when nothing on the page itself says anything.
            return self._set("paywalled", True, JSONLD), percent
        return False, percent

    def _ld_not_free(self) -> bool:
        parts = self.ld.get("hasPart")
        parts = parts if isinstance(parts, list) else [parts]
        values = [self.ld.get("isAccessibleForFree")] + [
            p.get("isAccessibleForFree") for p in parts if isinstance(p, dict)
        ]
        return any(v is False or (isinstance(v, str) and v.lower() == "false") for v in values)


    def _partial_layer(self) -> bool:
        """2026 template: the paywall layer's type says the server cut the body short
        (data-paywall-type="preview"; replica case layer_partial_2026)."""
        attr = self.profile.layer_type_attribute
        if not attr or not self.profile.partial_layer_types:
            return False
        head = self.profile.paywall_head_attribute
        if head and self.meta.head_attrs.get(head, "").strip().lower() == "false":
            return False  # the page says it has no paywall: no layer to look for
        if self.preview is not None:
            return False  # the 2025 template: a preview copy, never a layer
        layer = self._match_first("body_complete", "paywall_layer")
        kind = (layer.get(attr) or "").strip() if layer is not None else ""
        return kind in self.profile.partial_layer_types

