"""A version's change summary: what changed against the version before it, in numbers.

Computed once, when the version is created (storage/versions.py), and stored with it
(`article_versions.change_summary`), so that listings, feeds, alerts and re-parsing read the
same numbers without diffing bodies again:

    {"words_added": int, "words_removed": int,  # body: whole-word diff (storage.worddiff)
     "body_share": float,                       # words of the previous body removed or
                                                # replaced, over its word count (0..1)
     "old": {field: previous value, ...}}       # the SUMMARY_FIELDS that changed

Version 1: words_added is the body's word count, words_removed 0, body_share 1.0, old {}.
Values in `old` are the normalised ones that were hashed (dates as UTC ISO strings ending in
"Z"), so the summary is plain JSON.
"""

from __future__ import annotations

from typing import Any

from storage.worddiff import word_count, words_changed

# The short fields whose previous values a summary keeps (a version's own columns hold the
# new ones); the body is summarised by its word counts instead.
SUMMARY_FIELDS = ("title", "lead", "authors", "published_at", "updated_at", "section", "tags",
                  "paywalled", "paywall_percent", "image")


def change_summary(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The summary of `new` against `previous`, both normalised records
    (versioning.normalise); `previous` is None for version 1. Pure. The bodies are diffed
    only when they differ (the one costly step: difflib over two word lists)."""
    body = new.get("body")
    if previous is None:
        return {"words_added": word_count(body), "words_removed": 0, "body_share": 1.0,
                "old": {}}
    before = previous.get("body")
    added, removed = (0, 0) if before == body else words_changed(before, body)
    total = word_count(before)
    share = min(1.0, removed / total) if total else float(bool(added))
    old = {name: previous.get(name) for name in SUMMARY_FIELDS
           if previous.get(name) != new.get(name)}
    return {"words_added": added, "words_removed": removed, "body_share": round(share, 4),
            "old": old}
