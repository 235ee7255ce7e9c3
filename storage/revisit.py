"""Which known articles are due for a re-check. Pure functions over the site profile's
`[revisit]` table (config/sites/rp.toml):

    horizon_days = 90
    tiers = [{max_age_hours = 6, interval_minutes = 0}, ...]
    recent_change_hours = 24
    recent_change_interval_minutes = 60
    gone_interval_minutes = 1440   # optional, default below

Age is counted from publication (first_seen when the date is unknown). The first tier whose
`max_age_hours` covers the age gives the interval; an article older than every tier but inside
the horizon uses the last tier. A recent edit (version 2 or later) tightens the interval.
Articles marked gone or redirected are still re-checked, to notice restorations, but never more
often than `gone_interval_minutes` (and never more often than their age tier allows).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

DEFAULT_HORIZON_DAYS = 90
DEFAULT_GONE_INTERVAL_MINUTES = 1440


class _Checkable(Protocol):
    status: str
    first_seen: datetime | None
    published_at: datetime | None
    last_checked: datetime | None
    last_changed: datetime | None
    current_version: int


def recheck_interval(
    article: _Checkable, now: datetime, policy: dict[str, Any]
) -> timedelta | None:
    """How long after its last check the article is due again; None when it is past the horizon
    and should not be re-checked at all."""
    born = article.published_at or article.first_seen
    age = now - born if born else timedelta(0)
    horizon = timedelta(days=float(policy.get("horizon_days", DEFAULT_HORIZON_DAYS)))
    if age > horizon:
        return None

    tiers = sorted(policy.get("tiers") or [], key=lambda t: float(t["max_age_hours"]))
    minutes = 0.0
    for tier in tiers:
        minutes = float(tier["interval_minutes"])
        if age <= timedelta(hours=float(tier["max_age_hours"])):
            break
    interval = timedelta(minutes=minutes)

    recent_hours = policy.get("recent_change_hours")
    recent_minutes = policy.get("recent_change_interval_minutes")
    if (
        recent_hours is not None
        and recent_minutes is not None
        and article.current_version > 1  # discovering an article is not a change to it
        and article.last_changed is not None
        and now - article.last_changed <= timedelta(hours=float(recent_hours))
    ):
        interval = min(interval, timedelta(minutes=float(recent_minutes)))

    if article.status != "live":
        gone = timedelta(
            minutes=float(policy.get("gone_interval_minutes", DEFAULT_GONE_INTERVAL_MINUTES))
        )
        interval = max(interval, gone)
    return interval


def next_check(article: _Checkable, now: datetime, policy: dict[str, Any]) -> datetime | None:
    """When the article is next due (None: never, it is past the horizon)."""
    interval = recheck_interval(article, now, policy)
    if interval is None:
        return None
    if article.last_checked is None:
        return now
    return article.last_checked + interval


def is_due(article: _Checkable, now: datetime, policy: dict[str, Any]) -> bool:
    when = next_check(article, now, policy)
    return when is not None and now >= when
