"""How archive values read on the web pages and in feeds: times in Europe/Warsaw, change
summaries, links that are safe to follow. Pure functions (also used as Jinja filters)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from storage.query.changes import FIELD_KINDS

WARSAW = ZoneInfo("Europe/Warsaw")

# What each field kind is called on the pages.
KIND_LABELS = {
    "title": "headline", "lead": "lead", "body": "body", "authors": "byline",
    "dates": "dates", "paywall": "paywall", "section": "section", "tags": "tags",
    "image": "image", "related": "related",
}
_KIND_OF = {f: kind for kind, fields in FIELD_KINDS.items() for f in fields}


def as_datetime(value: Any) -> datetime | None:
    """A stored date (aware datetime, or an ISO string as JSON summaries keep them)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=WARSAW)
    return None


def warsaw(value: Any) -> str:
    """'2026-11-27 23:22 +01:00': the time in Europe/Warsaw with its offset."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    local = moment.astimezone(WARSAW)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def kinds(changed_fields: list[str] | None) -> list[str]:
    """The field kinds (FIELD_KINDS order) among `changed_fields`; ["new"] for a version 1."""
    fields = changed_fields or []
    if "*" in fields:
        return ["new"]
    found = {_KIND_OF[f] for f in fields if f in _KIND_OF}
    return [k for k in FIELD_KINDS if k in found]


def paywall_text(paywalled: Any, percent: Any) -> str:
    if not paywalled:
        return "free"
    return f"{percent}%" if percent is not None else "paywalled"


def _names(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value) if value not in (None, "") else "(none)"


def summary_parts(change: dict[str, Any]) -> list[str]:
    """The one-line summary of a change, in parts: "headline rewritten", "+142 / −37 words",
    "paywall 82% → 60%", "byline: arb → Jan Kowalski", ..."""
    fields = change.get("changed_fields") or []
    if "*" in fields:
        words = (change.get("summary") or {}).get("words_added")
        return ["new article" + (f", {words} words" if words is not None else "")]
    summary = change.get("summary") or {}
    old = summary.get("old") or {}
    parts = []
    found = kinds(fields)
    if "title" in found:
        parts.append("headline rewritten")
    if "lead" in found:
        parts.append("lead edited")
    if "body" in found:
        added, removed = summary.get("words_added"), summary.get("words_removed")
        if added is not None and removed is not None:
            parts.append(f"+{added} / −{removed} words")
        else:
            parts.append("body edited")
        if "body_complete" in fields and "body" not in fields:
            parts[-1] = "full text " + ("now available" if change.get("body_complete", True)
                                        else "no longer available")
    if "authors" in found:
        parts.append(f"byline: {_names(old.get('authors'))} → {_names(change.get('authors'))}"
                     if "authors" in old else "byline changed")
    if "paywall" in found:
        was = paywall_text(old.get("paywalled", change.get("paywalled")),
                           old.get("paywall_percent", change.get("paywall_percent")))
        parts.append(f"paywall {was} → "
                     f"{paywall_text(change.get('paywalled'), change.get('paywall_percent'))}")
    if "dates" in found:
        for name, label in (("published_at", "published"), ("updated_at", "updated")):
            if name in fields:
                parts.append(f"{label} {warsaw(old.get(name)) or '(none)'} → "
                             f"{warsaw(change.get(name)) or '(none)'}"
                             if name in old else f"{label} date changed")
    for kind in ("section", "tags", "image", "related"):
        if kind in found:
            parts.append(f"{kind} changed")
    return parts


def safe_url(value: Any) -> str | None:
    """`value` when it is an http(s) URL, else None: scraped links are never followed as
    javascript:, data: or anything else."""
    if not isinstance(value, str):
        return None
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return None
    return value.strip() if scheme in ("http", "https") else None


def show_value(value: Any) -> str:
    """A short field's value as text."""
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime) or (isinstance(value, str) and as_datetime(value)
                                        and len(value) >= 19 and value[4] == "-"):
        return warsaw(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list | tuple):
        return "; ".join(show_value(v) for v in value)
    return str(value)
