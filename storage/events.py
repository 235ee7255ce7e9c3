"""Change events: what a new version (or a status change, or a run) means to someone who wants
to be told, as typed events with stable ids. Pure: no database here (storage/outbox.py stores
and hands them out); the version-creation path calls derive_events() with the same normalised
records and change summary it stores, so an event exists if and only if its version does.

An event is a type and a payload; its stable key (event_key) names the article, the version
and the type, so deriving again (a back-fill, a retried transaction) yields the same
key and a receiver can deduplicate by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Per-field events, in the order a version's events are listed.
FIELD_EVENTS = {
    "title": "title_changed",
    "lead": "lead_changed",
    "authors": "authors_changed",
    "published_at": "published_changed",
    "updated_at": "updated_changed",
    "tags": "tags_changed",
    "image": "image_changed",
}
CONTENT_EVENTS = (
    "new_article", "title_changed", "lead_changed", "body_changed", "authors_changed",
    "published_changed", "updated_changed", "paywall_changed", "tags_changed",
    "image_changed", "removed", "restored",
)
OPERATIONAL_EVENTS = ("run_failed", "run_degraded", "suspects_held")
EVENT_TYPES = CONTENT_EVENTS + OPERATIONAL_EVENTS
# The field an event is about, for "changed_fields" in messages.
EVENT_FIELDS = {**{kind: name for name, kind in FIELD_EVENTS.items()},
                "body_changed": "body", "paywall_changed": "paywall"}


@dataclass(frozen=True)
class Event:
    type: str
    payload: dict[str, Any] = field(default_factory=dict)


def _paywall(record: dict[str, Any]) -> dict[str, Any]:
    return {"paywalled": bool(record.get("paywalled")),
            "percent": record.get("paywall_percent")}


def derive_events(previous: dict[str, Any] | None, new: dict[str, Any],
                  summary: dict[str, Any]) -> list[Event]:
    """The content events of a version: `previous` and `new` are normalised records
    (versioning.normalise; `previous` None for version 1) and `summary` the version's change
    summary (storage.changes.change_summary of the two). Fields no event covers (section,
    related, body_complete alone) make none."""
    if previous is None:
        return [Event("new_article", {"title": new.get("title"),
                                      "words": summary.get("words_added", 0)})]
    events = []
    for name, kind in FIELD_EVENTS.items():
        if previous.get(name) != new.get(name):
            events.append(Event(kind, {"old": previous.get(name), "new": new.get(name)}))
        if name == "lead" and previous.get("body") != new.get("body"):
            events.append(Event("body_changed", {  # reading order: after the lead
                "words_added": summary.get("words_added", 0),
                "words_removed": summary.get("words_removed", 0),
                "body_share": summary.get("body_share", 0.0),
            }))
    old_paywall, new_paywall = _paywall(previous), _paywall(new)
    if old_paywall != new_paywall:
        events.append(Event("paywall_changed", {"old": old_paywall, "new": new_paywall}))
    return events


def status_event(old_status: str | None, new_status: str,
                 payload: dict[str, Any] | None = None) -> Event | None:
    """`removed` when a live article answers 404/410 (status "gone"), `restored` when a gone
    one is back; None otherwise."""
    if new_status == "gone" and old_status != "gone":
        return Event("removed", dict(payload or {}))
    if old_status == "gone" and new_status == "live":
        return Event("restored", dict(payload or {}))
    return None


# Final run statuses that mean the crawl did not do its work (an interrupted run was stopped
# on purpose; a skipped one gave way to another crawl).
FAILED_RUN_STATUSES = ("failed", "timed_out")


def run_events(status: str, degraded: bool, suspect: int,
               payload: dict[str, Any] | None = None) -> list[Event]:
    """The operational events of a run closed with `status`: `run_failed`, `run_degraded`
    (field coverage below its minimum, as the crawl judged it), `suspects_held` (pages held
    back as suspect); each carries `payload` (the run's summary)."""
    kinds = []
    if status in FAILED_RUN_STATUSES:
        kinds.append("run_failed")
    if degraded:
        kinds.append("run_degraded")
    if suspect:
        kinds.append("suspects_held")
    return [Event(kind, dict(payload or {})) for kind in kinds]


def event_key(kind: str, *, article: int | None = None, version: int | None = None,
              fetch_event: int | None = None, run_id: int | None = None) -> str:
    """The stable id of an event, from archive ids: `a17:v2:title_changed` for a version's
    events, `a17:f812:removed` for a status change (the fetch that saw it),
    `run:9:run_failed` for a run's."""
    if run_id is not None:
        return f"run:{run_id}:{kind}"
    if version is not None:
        return f"a{article}:v{version}:{kind}"
    return f"a{article}:f{fetch_event}:{kind}"
