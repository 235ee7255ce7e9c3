"""`newsmon events` (the archive's change events) and `newsmon notify list|send|test`
(subscriptions and the outbox; see README "Alerts")."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from newsmon.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, CommandError, positive_int
from newsmon.cli.crawl_cmd import add_db_option


def _instant(text: str) -> datetime:
    """YYYY-MM-DD (from midnight UTC) or an ISO 8601 date-time (UTC when naive)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (expected YYYY-MM-DD or an ISO 8601 date-time)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _event_type(text: str) -> str:
    from storage.events import EVENT_TYPES

    if text not in EVENT_TYPES:
        raise argparse.ArgumentTypeError(
            f"unknown event type {text!r} (known: {', '.join(EVENT_TYPES)})")
    return text


def register(sub) -> None:
    p = sub.add_parser("events", help="change events (what alerts are made of)",
                       description="The archive's change events, oldest first.")
    add_db_option(p)
    p.add_argument("--since", type=_instant, metavar="DATE", help="events at or after DATE")
    p.add_argument("--type", type=_event_type, action="append", default=[], metavar="T",
                   help="only events of this type (repeatable)")
    p.add_argument("--article", metavar="A", help="only this article's events")
    p.add_argument("--limit", type=positive_int, default=1000, metavar="N")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=cmd_events)

    notify = sub.add_parser("notify", help="alert subscriptions and their deliveries",
                            description="Subscriptions are [[notify]] tables in newsmon.toml.")
    actions = notify.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    p = actions.add_parser("list", help="subscriptions with their pending/failed counts")
    add_db_option(p)
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=cmd_list)
    p = actions.add_parser("send", help="deliver whatever is pending")
    add_db_option(p)
    p.add_argument("--public-url", metavar="URL", help="base of web diff links in messages")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="stop after S seconds (what is left stays pending)")
    p.add_argument("--digest", action="append", default=[], metavar="NAME",
                   help="send digest subscription NAME's pending events now, before its "
                        "cron time (repeatable)")
    p.set_defaults(handler=cmd_send)
    p = actions.add_parser("test", help="send a sample message through a subscription")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--public-url", metavar="URL", help="base of web diff links in messages")
    p.set_defaults(handler=cmd_test)


def _subscriptions():
    from newsmon.notify.subscriptions import load_subscriptions

    subscriptions, errors = load_subscriptions()
    for error in errors:
        print(f"config error: {error}", file=sys.stderr)
    return subscriptions, errors


def cmd_events(args) -> int:
    from sqlalchemy.orm import Session

    from crawler.config import resolve_db_url
    from newsmon.cli.output import print_json, print_table
    from newsmon.notify.messages import webhook_document
    from storage import Archive
    from storage.outbox import list_events
    from storage.query import QueryError, resolve_article

    db_url, _ = resolve_db_url(args.db)
    with Archive.open(db_url) as archive:
        article = None
        if args.article:
            try:
                article = resolve_article(archive, args.article)
            except QueryError as exc:
                raise CommandError(str(exc), EXIT_BAD_INPUT) from None
        with Session(archive.engine) as s:
            events = list_events(s, since=args.since, types=args.type, article=article,
                                 limit=args.limit)
    documents = [webhook_document(event) for event in events]
    if args.json:
        print_json(documents, lines=True)
        return EXIT_OK
    rows = [{"occurred_at": d["occurred_at"], "type": d["type"], "id": d["id"],
             "article": (d["article"] or {}).get("site_id"),
             "title": (d["article"] or {}).get("title")} for d in documents]
    print_table(rows, ["occurred_at", "type", "id", "article", "title"])
    return EXIT_OK


def cmd_list(args) -> int:
    from sqlalchemy.orm import Session

    from crawler.config import resolve_db_url
    from newsmon.cli.output import print_json, print_table
    from storage import Archive
    from storage.outbox import outbox_counts

    subscriptions, errors = _subscriptions()
    db_url, _ = resolve_db_url(args.db)
    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        counts = outbox_counts(s)
    rows = [{"name": sub.name, "kind": "webhook" if sub.is_webhook else "apprise",
             "events": ",".join(sub.events), "mode": sub.mode,
             **{status: counts.get(sub.name, {}).get(status, 0)
                for status in ("pending", "delivered", "failed")}} for sub in subscriptions]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["name", "kind", "mode", "pending", "delivered", "failed", "events"])
    return EXIT_FAILURE if errors else EXIT_OK


def cmd_send(args) -> int:
    from crawler.config import resolve_db_url
    from newsmon.notify.sender import send_pending
    from storage import Archive

    subscriptions, errors = _subscriptions()
    digests = {sub.name for sub in subscriptions if sub.mode == "digest"}
    for name in args.digest:
        if name not in digests:
            raise CommandError(f"no usable digest subscription named {name!r}",
                               EXIT_BAD_INPUT)
    db_url, _ = resolve_db_url(args.db)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    with Archive.open(db_url) as archive:
        report = send_pending(archive.engine, subscriptions, public_url=args.public_url,
                              deadline=deadline, force_digests=args.digest)
    print(report.line())
    return EXIT_FAILURE if errors or report.failed else EXIT_OK


def cmd_test(args) -> int:
    from crawler.sites import site_table
    from newsmon.notify.channels import deliver

    subscriptions, _ = _subscriptions()
    chosen = [sub for sub in subscriptions if sub.name == args.name]
    if not chosen:
        raise CommandError(f"no usable subscription named {args.name!r}", EXIT_BAD_INPUT)
    now = datetime.now(UTC)
    site = _configured_site()
    sample = {"id": 0, "key": f"test:{int(now.timestamp())}:title_changed",
              "type": "title_changed", "occurred_at": now, "version": 2,
              "payload": {"old": "Sample headline", "new": "Sample headline, edited"},
              "article": {"id": 0, "site": site, "site_id": "0",
                          "url": site_table(site).get("base_url") if site else None,
                          "title": "Sample headline, edited", "lead": None, "body": None,
                          "section": None, "authors": [], "tags": []}}
    result = deliver(chosen[0], sample, args.public_url)
    if not result.ok:
        raise CommandError(f"{args.name}: {result.error}")
    print(f"{args.name}: sample message delivered")
    return EXIT_OK


def _configured_site() -> str | None:
    """The site the sample article is from: the configured one (none: the message names
    newsmon)."""
    from crawler.config import ConfigError
    from crawler.sites import default_site

    try:
        return default_site()
    except ConfigError:
        return None
