"""`newsmon reparse`: run the current parser and site profile over the archive's raw pages and
correct the archive (newsmon/reparse.py does the work; this formats its report).

Without --suspects, archived versions are re-parsed: records that differ are corrected (the
replaced ones kept as superseded records), changed fields, change summaries, the search index
and events follow, and a version that now equals the one before it is marked as a parser
artefact. With --suspects, the fetches held back as suspect are re-validated: one that now
passes the crawl's rules becomes the article's next version, the rest stay held with the new
reason. --dry-run changes nothing and says per field how many values would change.

A stored page that is missing or cannot be read is reported and skipped; the command exits 1
at the end when any was. An interrupted re-parse is resumed by running it again with the
same options.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time

from newsmon.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, CommandError, positive_int
from newsmon.cli.crawl_cmd import add_db_option


def _date(text: str) -> date | datetime:
    from newsmon.cli.query_cmd import _date as parse_date

    return parse_date(text)


def register(sub) -> None:
    p = sub.add_parser("reparse", help="re-parse stored raw pages and correct the archive",
                       description=__doc__.split("\n\n", 1)[1],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_db_option(p)
    p.add_argument("--site", metavar="NAME", help="only this site's articles")
    p.add_argument("--article", metavar="ARTICLE", help="only this article (as for show)")
    p.add_argument("--since", type=_date, metavar="DATE",
                   help="only pages fetched on or after DATE (YYYY-MM-DD or ISO date-time)")
    p.add_argument("--suspects", action="store_true",
                   help="re-validate the fetches held back as suspect instead of versions")
    p.add_argument("--dry-run", action="store_true",
                   help="change nothing; report what would change, per field")
    p.add_argument("--variant", metavar="NAME",
                   help="parse every page with this profile variant ('latest', 'base' or a "
                        "variant's name) instead of the one in force when it was fetched")
    p.add_argument("--workers", type=int, metavar="N",
                   help="parser processes (default: one per CPU; 0: parse in this process)")
    p.add_argument("--batch", type=positive_int, default=40, metavar="N",
                   help="articles per write transaction (default 40)")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.set_defaults(handler=cmd_reparse)


def _instant(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def cmd_reparse(args) -> int:
    from crawler.config import resolve_db_url, section
    from newsmon.reparse import Options, ReparseBusy, reparse
    from storage import Archive
    from storage.query import QueryError, resolve_article
    from storage.versioning import DEFAULT_MAX_BODY_SHRINK

    if args.workers is not None and args.workers < 0:
        raise CommandError("--workers must be 0 or more", EXIT_BAD_INPUT)
    db_url, _ = resolve_db_url(args.db)
    with Archive.open(db_url) as archive:
        article = None
        if args.article:
            try:
                article = resolve_article(archive, _article_ref(args.article), site=args.site)
            except QueryError as exc:
                raise CommandError(str(exc), EXIT_BAD_INPUT) from None
        options = Options(site=args.site, article=article, since=_instant(args.since),
                          suspects=args.suspects, dry_run=args.dry_run, variant=args.variant,
                          batch=args.batch, max_body_shrink=float(section("health").get(
                              "max_body_shrink", DEFAULT_MAX_BODY_SHRINK)))
        if args.workers is not None:
            options.workers = args.workers
        try:
            with _progress(args) as progress:
                report = reparse(archive, options, progress=progress)
        except ReparseBusy as exc:
            raise CommandError(str(exc), EXIT_FAILURE) from None
    if args.json:
        from newsmon.cli.output import print_json

        print_json(report.as_dict())
    else:
        _print(report)
    if report.skipped:
        print(f"newsmon reparse: {len(report.skipped)} page(s) skipped (stored page missing "
              "or unreadable, or no usable profile); see above", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _progress(args):
    """Pages re-parsed so far, on stderr (newsmon/progress.py); nothing with -q."""
    import contextlib

    from newsmon.cli import verbosity
    from newsmon.progress import Reporter

    if verbosity(args) < 0:
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def shown():
        with Reporter("reparse", unit="pages") as reporter:
            def update(report) -> None:
                c = report.counts
                reporter.update(c["pages"], detail=f"{report.pages_per_s:.0f} pages/s, "
                                + ", ".join(f"{k.replace('_', ' ')} {v}"
                                            for k, v in c.items() if k != "pages" and v))
            yield update

    return shown()


def _article_ref(text: str) -> str:
    from newsmon.cli.query_cmd import _article_ref as ref

    return ref(text)


def _print(report) -> None:
    from newsmon.cli.output import print_table

    c = report.counts
    verb = "would" if report.dry_run else ""
    head = "dry run" if report.dry_run else f"re-parse job {report.job_id}"
    if report.resumed_after:
        head += f" (resumed after article {report.resumed_after})"
    rate = f"{report.pages_per_s:,.0f}/s" if report.seconds else "-"
    shares = ", ".join(f"{k} {v:.0%}" for k, v in report.shares().items())
    print(f"{head}: {c['pages']} pages in {report.seconds:.1f} s ({rate}; CPU: {shares})")
    if report.suspects:
        print(f"  {verb + ' ' if verb else ''}new versions {c['new_version']}, new articles "
              f"{c['new_article']}, unchanged {c['unchanged']}, still held {c['held']}, "
              f"skipped {c['skipped']}")
    else:
        print(f"  records {verb + ' be ' if verb else ''}corrected {c['changed']}, "
              f"fingerprints refreshed {c['refreshed']}, unchanged {c['unchanged']}, kept "
              f"(new parse unusable) {c['unusable']}, skipped {c['skipped']}")
        print(f"  artefacts marked {c['artefacts_marked']}, cleared {c['artefacts_cleared']}; "
              f"events added {c['events_added']}, removed {c['events_removed']}, updated "
              f"{c['events_updated']}")
    if report.fields:
        rows = []
        for name, count in report.fields.most_common():
            examples = report.examples.get(name) or []
            shown = "; ".join(f"{e['article_id']} v{e['version']}: {_short(e['old'])} -> "
                              f"{_short(e['new'])}" for e in examples)
            rows.append({"field": name, "values": count, "examples": shown})
        print_table(rows, ["field", "values", "examples"],
                    title="values that " + ("would change" if report.dry_run else "changed"))
    for note in report.notes:
        if note.get("outcome") in (None, "held", "skipped"):
            print(f"  {_where(note)}: {note.get('kept') or note.get('reason')}")
    for bad in report.skipped:
        print(f"  skipped {_where(bad)}: {bad['reason']}", file=sys.stderr)


def _where(item) -> str:
    if item.get("event"):
        return f"event {item['event']} (article {item.get('article_id')})"
    return f"article {item.get('article_id') or item.get('id')} v{item.get('version')}"


def _short(value) -> str:
    text = "(none)" if value in (None, "", []) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
