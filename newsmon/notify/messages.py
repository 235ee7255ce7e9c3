"""What a subscription receives for an event: the webhook's JSON document, or a title and a
body (plain text and HTML with inline styles) for Apprise. Pure functions of the event dict
that storage.outbox hands out; scraped text is always escaped, never sent as HTML."""

from __future__ import annotations

import hashlib
import hmac
import json
from html import escape
from typing import Any

from crawler.sites import display_name
from storage.events import EVENT_FIELDS
from storage.worddiff import word_diff

SCHEMA = "newsmon.event/1"
LABELS = {
    "new_article": "new article", "title_changed": "headline changed",
    "lead_changed": "lead changed", "body_changed": "text edited",
    "authors_changed": "byline changed", "published_changed": "publication date changed",
    "updated_changed": "update date changed", "paywall_changed": "paywall changed",
    "tags_changed": "tags changed", "image_changed": "image changed",
    "removed": "removed", "restored": "restored", "run_failed": "crawl failed",
    "run_degraded": "crawl degraded", "suspects_held": "pages held as suspect",
}
# The body text sent for one change at most (the link to the web diff has the rest).
SHORT_DIFF_CHARS = 600


# Events about the article's status, not a version: their version is the last one known.
STATUS_EVENTS = ("removed", "restored")


def _compares_versions(event: dict[str, Any]) -> bool:
    version = event.get("version")
    return bool(version) and version > 1 and event["type"] not in STATUS_EVENTS


def diff_url(event: dict[str, Any], public_url: str | None) -> str | None:
    article, version = event.get("article"), event.get("version")
    if not public_url or article is None or not version:
        return None
    base = public_url.rstrip("/")
    if not _compares_versions(event):
        return f"{base}/articles/{article['id']}"
    return f"{base}/articles/{article['id']}/diff?from={version - 1}&to={version}"


def webhook_document(event: dict[str, Any], public_url: str | None = None) -> dict[str, Any]:
    """The native webhook's JSON body (documented in the README's Alerts section)."""
    article = event.get("article")
    payload = event.get("payload") or {}
    version = event.get("version")
    field = EVENT_FIELDS.get(event["type"])
    return {
        "schema": SCHEMA,
        "id": event["key"],
        "type": event["type"],
        "occurred_at": event["occurred_at"].isoformat().replace("+00:00", "Z"),
        "article": None if article is None else {
            "id": article["id"], "site": article["site"], "site_id": article["site_id"],
            "url": article["url"], "title": article["title"],
        },
        "version": version,
        "previous_version": version - 1 if _compares_versions(event) else None,
        "changed_fields": [field] if field else [],
        "change": payload,
        "diff_url": diff_url(event, public_url),
    }


def signature(secret: str, body: bytes) -> str:
    """X-Newsmon-Signature: `sha256=` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _site(event: dict[str, Any]) -> str:
    name = (event.get("article") or {}).get("site") or (event.get("payload") or {}).get("site")
    return display_name(name)  # "rp.pl", from the site profile


def title(event: dict[str, Any]) -> str:
    """`rp.pl · headline changed · <new headline>`; a run's events end with its note."""
    article = event.get("article") or {}
    parts = [_site(event), LABELS.get(event["type"], event["type"])]
    if article.get("title"):
        parts.append(article["title"])
    elif article == {} and (event.get("payload") or {}).get("note"):
        parts.append(event["payload"]["note"])
    return " · ".join(parts)


def _short(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "(none)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v is not None)
    return str(value)


def _change_lines(event: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(label, old, new) pairs, or text lines as (label, None, None)."""
    payload = event.get("payload") or {}
    kind = event["type"]
    if kind == "body_changed":
        return [(f"+{payload.get('words_added', 0)} / -{payload.get('words_removed', 0)} words "
                 f"({round(100 * payload.get('body_share', 0))}% of the text)", None, None)]
    if "old" in payload or "new" in payload:
        return [("", payload.get("old"), payload.get("new"))]
    if kind in STATUS_EVENTS:
        return [(f"HTTP {payload.get('http_status')} at {payload.get('url')}", None, None)]
    if "run_id" in payload:
        return [(line, None, None) for line in _run_lines(kind, payload)]
    return []


def _run_lines(kind: str, payload: dict[str, Any]) -> list[str]:
    """What an operational event says about its run."""
    lines = [f"run {payload['run_id']}: {payload.get('status')}"
             + (f" ({payload['note']})" if payload.get("note") else "")]
    if kind == "run_degraded":
        shares = ", ".join(f"{name} {round(100 * share)}%"
                           for name, share in (payload.get("coverage") or {}).items())
        lines.append(f"field coverage: {shares or 'none measured'}")
    if kind == "suspects_held":
        lines.append(f"{payload.get('suspect', 0)} pages held back as suspect "
                     f"(newsmon runs --suspects --run {payload['run_id']})")
    lines.append(f"{payload.get('pages_fetched', 0)} pages fetched, "
                 f"{payload.get('new_versions', 0)} new versions, "
                 f"{payload.get('errors', 0)} errors")
    return lines


def text_body(event: dict[str, Any], public_url: str | None = None,
              limit: int | None = None) -> str:
    """Plain text: old -> new with a word diff for text fields, cut to `limit` characters
    (keeping the link to the full diff)."""
    lines = []
    for label, old, new in _change_lines(event):
        if label:
            lines.append(label)
        elif isinstance(old, str) and isinstance(new, str):
            lines.append("".join(_diff_text(old, new)))
        else:
            lines.append(f"{_short(old)} → {_short(new)}")
    article = event.get("article") or {}
    link = diff_url(event, public_url) or article.get("url")
    text = "\n".join(lines)[:SHORT_DIFF_CHARS]
    tail = f"\n{link}" if link else ""
    if limit is not None and len(text) + len(tail) > limit:
        text = text[:max(0, limit - len(tail) - 1)] + "…"
    return text + tail


def _diff_text(old: str, new: str) -> list[str]:
    out = []
    for part in word_diff(old, new):
        op, text = part["op"], part["text"]
        out.append(text if op == "equal" else f"[-{text}-]" if op == "delete" else f"{{+{text}+}}")
    return out


_DEL = "background:#fdd;color:#900;text-decoration:line-through"
_INS = "background:#dfd;color:#060"


def html_body(event: dict[str, Any], public_url: str | None = None) -> str:
    """HTML for e-mail: inline styles only (mail clients strip <style>, <ins> and <del>)."""
    out = []
    for label, old, new in _change_lines(event):
        if label:
            out.append(f"<p>{escape(label)}</p>")
        elif isinstance(old, str) and isinstance(new, str):
            spans = []
            for part in word_diff(old, new):
                text = escape(part["text"])
                style = {"delete": _DEL, "insert": _INS}.get(part["op"])
                spans.append(f'<span style="{style}">{text}</span>' if style else text)
            out.append(f"<p>{''.join(spans)}</p>")
        else:
            out.append(f'<p><span style="{_DEL}">{escape(_short(old))}</span> → '
                       f'<span style="{_INS}">{escape(_short(new))}</span></p>')
    article = event.get("article") or {}
    link = diff_url(event, public_url) or article.get("url")
    if link and link.startswith(("http://", "https://")):
        out.append(f'<p><a href="{escape(link)}">{escape(link)}</a></p>')
    return "\n".join(out)


def render_template(template: str, event: dict[str, Any], public_url: str | None) -> str:
    """A subscription's own Jinja2 template (autoescaped) with the event, its webhook
    document and the default text."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(
        event=webhook_document(event, public_url), title=title(event),
        text=text_body(event, public_url))


def to_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


# -- digests: a subscription's pending events as one message -----------------------------

DIGEST_SCHEMA = "newsmon.digest/1"


def digest_id(name: str, events: list[dict[str, Any]]) -> str:
    """The digest's id (X-Newsmon-Event): its subscription and its events' ids, so a digest
    sent again after a crash, holding the same events, carries the same id."""
    digest = hashlib.sha256("\n".join(e["key"] for e in events).encode()).hexdigest()[:16]
    return f"digest:{name}:{digest}"


def digest_document(name: str, events: list[dict[str, Any]],
                    public_url: str | None = None) -> dict[str, Any]:
    """The native webhook's JSON body for a digest: each event's own document, in order."""
    return {"schema": DIGEST_SCHEMA, "id": digest_id(name, events), "subscription": name,
            "count": len(events),
            "events": [webhook_document(event, public_url) for event in events]}


def digest_title(events: list[dict[str, Any]]) -> str:
    """`rp.pl · digest · 2 changes`."""
    sites = {_site(event) for event in events}
    site = sites.pop() if len(sites) == 1 else "newsmon"
    return f"{site} · digest · {len(events)} change{'' if len(events) == 1 else 's'}"


def _heading(event: dict[str, Any]) -> str:
    """One event in a digest: its title without the site."""
    return title(event).split(" · ", 1)[1]


def digest_text(events: list[dict[str, Any]], public_url: str | None = None,
                limit: int | None = None) -> str:
    """Plain text: each event's heading and text body; cut at whole events to `limit`, with
    how many were left out."""
    blocks = [f"• {_heading(event)}\n{text_body(event, public_url)}" for event in events]
    out: list[str] = []
    for i, block in enumerate(blocks):
        rest = len(blocks) - i - 1
        tail = f"\n\n… and {rest} more" if rest else ""
        if limit is not None and len("\n\n".join([*out, block])) + len(tail) > limit:
            if out:
                out.append(f"… and {len(blocks) - i} more")
                break
            block = block[:max(0, limit - len(tail) - 1)] + "…"  # the first one, cut
        out.append(block)
    return "\n\n".join(out)[:limit] if limit else "\n\n".join(out)


def digest_html(events: list[dict[str, Any]], public_url: str | None = None) -> str:
    """HTML for e-mail (inline styles only): each event's heading and HTML body."""
    return "\n".join(f'<h3 style="margin:1em 0 0.3em">{escape(_heading(event))}</h3>\n'
                     f"{html_body(event, public_url)}" for event in events)
