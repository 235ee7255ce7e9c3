"""The sender: queue what each subscription has not seen yet, claim due outbox rows, deliver
them, record the outcome. Any number of senders may run at once (crawls, the daemon,
`newsmon notify send`): storage/outbox.py makes each row go to one of them.

A failed delivery is retried after an exponential backoff (or the receiver's Retry-After),
up to MAX_ATTEMPTS, then marked failed with its error. A subscription whose delivery fails
is left alone for the rest of the pass, so a receiver that is down delays only its own rows.

A digest subscription's rows wait until its time: the first cron time after the oldest of
them. Then any sender (the daemon's digest job at that time, or a crawl or `notify send`
after it) delivers them all as one message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from newsmon.notify.channels import Result, deliver, deliver_digest
from newsmon.notify.subscriptions import Subscription
from storage import outbox
from storage.db import read_engine
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = 30.0  # seconds before the first retry; doubled for each further attempt
BACKOFF_CAP = 6 * 3600.0
# A claimed row is not handed out again before this: longer than any delivery's timeout.
CLAIM_LEASE = timedelta(minutes=5)
CLAIM_BATCH = 20
DIGEST_MAX_EVENTS = 200  # events in one digest message; more go in the next one


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (1, 2, ...)."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    if retry_after is not None:
        delay = min(BACKOFF_CAP, max(delay, retry_after))
    return delay


@dataclass
class SendReport:
    queued: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    digests: int = 0  # digest messages sent (their events count in `delivered`)
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        digests = (f" ({self.digests} digest{'' if self.digests == 1 else 's'})"
                   if self.digests else "")
        return (f"notifications: {self.delivered} delivered{digests}, {self.retrying} to "
                f"retry, {self.failed} failed ({self.queued} queued)")


def _write(engine, work):
    with Session(engine) as s, s.begin():
        return work(s)


def send_pending(engine, subscriptions: list[Subscription], *, public_url: str | None = None,
                 deadline: float | None = None, force_digests: Iterable[str] = (),
                 now: datetime | None = None) -> SendReport:
    """Queue what each of `subscriptions` has not seen yet; deliver everything due for the
    immediate ones, and each digest whose time has come (digest_due at `now`) or that
    `force_digests` names as one message, until done or `deadline` (time.monotonic()); what
    is left stays pending for the next sender."""
    report = SendReport()
    forced = set(force_digests)
    _write(engine, lambda s: outbox.ensure_cursors(s, [sub.name for sub in subscriptions]))
    for sub in subscriptions:
        report.queued += _write(engine, lambda s, sub=sub: outbox.enqueue(
            s, sub.name, sub.matches, bootstrap=sub.bootstrap,
            with_text=sub.query_tree is not None))
    for sub in subscriptions:
        if sub.mode == "digest":
            if sub.name in forced or digest_due(engine, sub, now):
                _send_digest(engine, sub, public_url, deadline, report)
            continue
        while deadline is None or time.monotonic() < deadline:
            rows = _write(engine, lambda s, sub=sub: outbox.claim(
                s, [sub.name], lease=CLAIM_LEASE, limit=CLAIM_BATCH))
            if not rows:
                break
            if not _deliver_rows(engine, sub, rows, public_url, deadline, report):
                break
    return report


def _deliver_rows(engine, sub, rows, public_url, deadline, report) -> bool:
    """Deliver claimed rows in order; False when the subscription should wait (a failure, or
    the deadline: unsent claimed rows come back after the lease)."""
    for row in rows:
        if deadline is not None and time.monotonic() >= deadline:
            _write(engine, lambda s, row=row: outbox.release(s, row["outbox_id"]))
            continue
        try:
            result = deliver(sub, row["event"], public_url)
        except Exception as exc:  # a broken template or channel must not stop the others
            result = Result(False, f"{type(exc).__name__}: {exc}")
        if result.ok:
            _write(engine, lambda s, row=row: outbox.mark_delivered(s, row["outbox_id"]))
            report.delivered += 1
            continue
        _record_failure(engine, sub, [row], result, report)
        # The rest of this batch was claimed with it: hand it back now, untried.
        for other in rows[rows.index(row) + 1:]:
            _write(engine, lambda s, other=other: outbox.release(s, other["outbox_id"]))
        return False
    return True


def digest_due(engine, sub: Subscription, now: datetime | None = None) -> bool:
    """Whether a cron time of digest `sub` has come since its oldest pending event."""
    with Session(read_engine(engine)) as s:
        oldest = outbox.oldest_pending(s, sub.name)
    if oldest is None:
        return False
    fire = sub.cron_trigger().get_next_fire_time(None, oldest)
    return fire is not None and fire <= (now or utcnow())


def _send_digest(engine, sub: Subscription, public_url, deadline, report: SendReport) -> None:
    """Deliver `sub`'s due rows as one message (DIGEST_MAX_EVENTS at most: then the next)."""
    while deadline is None or time.monotonic() < deadline:
        rows = _write(engine, lambda s: outbox.claim(
            s, [sub.name], lease=CLAIM_LEASE, limit=DIGEST_MAX_EVENTS))
        if not rows:
            return
        try:
            result = deliver_digest(sub, [row["event"] for row in rows], public_url)
        except Exception as exc:  # a broken template or channel must not stop the others
            result = Result(False, f"{type(exc).__name__}: {exc}")
        if not result.ok:
            _record_failure(engine, sub, rows, result, report)
            return
        _write(engine, lambda s, rows=rows: [outbox.mark_delivered(s, row["outbox_id"])
                                             for row in rows])
        report.delivered += len(rows)
        report.digests += 1
        if len(rows) < DIGEST_MAX_EVENTS:
            return


def _record_failure(engine, sub, rows, result: Result, report: SendReport) -> None:
    """One failed message (of one event, or a digest of several): each row is retried after
    its backoff, or marked failed once it used its attempts."""
    error = result.error or "delivery failed"
    more = f" and {len(rows) - 1} more" if len(rows) > 1 else ""
    message = f"{sub.name}: {rows[0]['event']['key']}{more}: {error}"
    report.errors.append(message)
    log.warning("notification %s", message)

    def record(s):
        for row in rows:
            if row["attempts"] >= MAX_ATTEMPTS:
                outbox.mark_failed(s, row["outbox_id"], error)
                report.failed += 1
                continue
            when = utcnow() + timedelta(seconds=backoff(row["attempts"], result.retry_after))
            outbox.mark_retry(s, row["outbox_id"], error, when)
            report.retrying += 1
    _write(engine, record)


# How long a crawl waits for its notifications before it exits; what is left stays pending.
CRAWL_SEND_TIMEOUT = 30.0


def before_crawl(engine) -> list[Subscription]:
    """The configured subscriptions, their cursors created now so that they get this crawl's
    events; a configuration error is logged (naming the subscription) and the crawl goes on."""
    from newsmon.notify.subscriptions import load_subscriptions

    subscriptions, errors = load_subscriptions()
    for error in errors:
        log.error("notify config error: %s", error)
    if subscriptions:
        _write(engine, lambda s: outbox.ensure_cursors(s, [sub.name for sub in subscriptions]))
    return subscriptions


def after_crawl(engine, subscriptions: list[Subscription],
                timeout: float = CRAWL_SEND_TIMEOUT) -> SendReport | None:
    """Deliver the crawl's notifications (and anything else due), within `timeout`."""
    if not subscriptions:
        return None
    try:
        report = send_pending(engine, subscriptions, deadline=time.monotonic() + timeout)
    except Exception:  # the crawl's result stands whatever happens to its notifications
        log.exception("sending notifications failed; they stay pending")
        return None
    log.info(report.line())
    return report
