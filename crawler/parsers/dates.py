"""Publication and update dates: the visible date line (configured selectors, hidden update
spans ignored), the labelled text after a redesign ("Publikacja: DD.MM.YYYY HH:MM"), then
JSON-LD and meta tags; times in the site's zone (text.py)."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from crawler.parsers.page import JSONLD, META, PATTERN, VISIBLE, PageBase
from crawler.parsers.text import element_text, parse_iso, parse_local


class DateFields(PageBase):
    @cached_property
    def _visible_dates(self) -> tuple[datetime | None, datetime | None, str | None]:
        """(published, shown update, source) from the visible date line."""
        profile = self.profile
        date = profile.patterns.get("date")
        el = self._match_first("published_at", "published")
        if el is not None:
            published = self._element_date(el, date)
            if published is not None:
                updated = None
                upd = self._match_first("updated_at", "updated")
                box = self._match_first("updated_at", "updated_box")
                # The update span is always in the HTML; hidden with display:none it was never
                # shown to readers (and may hold a stale time): see fixture replica-hidden-update.
                if upd is not None and not self._hidden(upd) and not (
                    box is not None and self._hidden(box)
                ):
                    updated = self._element_date(upd, date)
                return published, updated, VISIBLE
        # Redesign fallback: a text node "Publikacja: DD.MM.YYYY HH:MM" anywhere.
        published = self._labelled_date("published")
        if published is not None:
            return published, self._labelled_date("updated"), PATTERN
        return None, None, None

    def _element_date(self, el, date_pattern) -> datetime | None:
        for attr in ("datetime", "content"):
            if el.get(attr):
                return parse_iso(el.get(attr), self.profile.timezone)
        if date_pattern is None:
            return None
        m = date_pattern.search(element_text(el))
        return parse_local(m, self.profile.timezone) if m else None

    def _labelled_date(self, key: str) -> datetime | None:
        regex = self.profile.label_dates.get(key)
        if regex is None:
            return None
        for node in self._text_nodes_with(self.profile.labels.get(key)):
            holder = self._label_holder(node)
            if holder is None or self._hidden(holder):
                continue
            m = regex.search(element_text(holder, self.profile.skip_tags))
            if m:
                return parse_local(m, self.profile.timezone)
        return None

    def _ld_date(self, *keys: str) -> tuple[datetime | None, str | None]:
        for key in keys:
            dt = parse_iso(self.ld.get(key), self.profile.timezone)
            if dt is not None:
                return dt, key
        return None, None

    def published_at(self) -> datetime | None:
        published, _, source = self._visible_dates
        if published is not None:
            return self._set("published_at", published, source)
        # JSON-LD disagrees with the visible line on the real site (dateCreated is the visible
        # "Publikacja", datePublished the update), hence dateCreated first.
        dt, _ = self._ld_date("dateCreated", "datePublished")
        if dt is not None:
            return self._set("published_at", dt, JSONLD)
        for name in ("article:published_time", "og:published_time", "datepublished",
                     "publish-date", "pubdate", "date", "dc.date", "dc.date.issued"):
            dt = parse_iso(self.meta.first(name), self.profile.timezone)
            if dt is not None:
                return self._set("published_at", dt, META)
        return None

    def updated_at(self, published: datetime | None) -> datetime | None:
        visible_published, visible_updated, source = self._visible_dates
        if visible_published is not None:
            # Only an update the page shows, and only when later than the publication.
            if visible_updated is not None and visible_updated > visible_published:
                return self._set("updated_at", visible_updated, source)
            return None
        modified, _ = self._ld_date("dateModified")
        src = JSONLD
        if modified is None:
            modified, src = parse_iso(
                self.meta.first("article:modified_time", "og:updated_time", "datemodified"),
                self.profile.timezone,
            ), META
        created, _ = self._ld_date("dateCreated", "datePublished")
        reference = created or published
        if modified is not None and (reference is None or modified > reference):
            return self._set("updated_at", modified, src)
        return None

