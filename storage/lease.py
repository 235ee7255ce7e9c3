"""The crawl lease: a named lock with expiry in the archive, shared by scheduled and manual
crawls (and several machines). A lease whose holder ran on this host and is gone is taken
over at once; one held on another host only when it expires."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import CrawlLease
from storage.processes import process_gone
from storage.rows import insert_ignore, row_dict
from storage.types import utcnow


def as_ttl(ttl: float | timedelta) -> timedelta:
    return ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)


def acquire_lease(s: Session, name: str, holder: str, ttl: timedelta, host: str) -> bool:
    """Take the named lease for `ttl`. True when `holder` holds it now (also when it already
    did: the expiry is extended)."""
    now = utcnow()
    lease = s.scalars(select(CrawlLease).where(CrawlLease.name == name).with_for_update()).first()
    if lease is None:
        values = dict(name=name, holder=holder, pid=os.getpid(), host=host, acquired_at=now,
                      heartbeat_at=now, expires_at=now + ttl)
        return insert_ignore(s, CrawlLease, values, ["name"]) == 1
    if lease.holder == holder:
        lease.heartbeat_at, lease.expires_at = now, now + ttl
        return True
    dead = lease.host == host and process_gone(lease.pid, lease.acquired_at)
    if lease.expires_at <= now or dead:
        lease.holder, lease.pid, lease.host = holder, os.getpid(), host
        lease.acquired_at = lease.heartbeat_at = now
        lease.expires_at = now + ttl
        return True
    return False


def renew_lease(s: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Extend a lease `holder` holds (heartbeat). False when someone else holds it now."""
    now = utcnow()
    result = s.execute(
        update(CrawlLease)
        .where(CrawlLease.name == name, CrawlLease.holder == holder)
        .values(heartbeat_at=now, expires_at=now + ttl)
    )
    return result.rowcount == 1


def release_lease(s: Session, name: str, holder: str) -> bool:
    """Give the lease up. False when `holder` did not hold it."""
    lease = s.get(CrawlLease, name, with_for_update=True)
    if lease is None or lease.holder != holder:
        return False
    s.delete(lease)
    return True


def lease_info(s: Session, name: str = "crawl") -> dict[str, Any] | None:
    lease = s.get(CrawlLease, name)
    return row_dict(lease) if lease else None
