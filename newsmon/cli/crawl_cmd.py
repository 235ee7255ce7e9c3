"""`newsmon crawl`, `newsmon runs` and `newsmon accept-suspect`."""

from __future__ import annotations

import json
import sys

from newsmon.cli import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    EXIT_OK,
    CommandError,
    positive_int,
    verbosity,
)

RUN_COUNT_FIELDS = ("pages_fetched", "not_modified", "new_articles", "new_versions",
                    "unchanged", "gone", "errors", "parse_failures", "suspect")


def add_db_option(parser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="archive: sqlite:///PATH, a file path, or postgresql://...; "
                             "default: $NEWSMON_DB, then config, then the user data "
                             "directory (newsmon info shows which)")


def add_crawl_options(parser) -> None:
    add_db_option(parser)
    parser.add_argument("--site", metavar="NAME", action="append",
                        help="site profile to crawl (sites/NAME.toml of the configuration); "
                             "repeatable, the sites crawled at once; default: [crawl].sites, "
                             "else [crawl].site (`newsmon info` shows them)")
    parser.add_argument("--all-sites", action="store_true",
                        help="crawl every site with a profile in the configuration "
                             "(`newsmon sites list`)")
    parser.add_argument("--base-url", metavar="URL",
                        help="crawl this address instead of the profile's base_url "
                             "(e.g. a replica or a mirror)")
    parser.add_argument("--recheck", choices=("all", "due", "none"), default="due",
                        help="re-fetch known articles: all, those due under the revisit "
                             "policy (default), or none")
    parser.add_argument("--max-articles", type=positive_int, metavar="N",
                        help="fetch at most N articles in this run")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        dest="settings", type=_setting,
                        help="override a Scrapy setting, e.g. -s DOWNLOAD_DELAY=0 (repeatable)")


def _setting(text: str) -> tuple[str, str]:
    import argparse

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def register(sub) -> None:
    crawl = sub.add_parser("crawl", help="crawl the site once into the archive",
                           description="Discover and fetch articles, archive new versions.")
    add_crawl_options(crawl)
    crawl.add_argument("--trigger", choices=("manual", "scheduled"), default="manual",
                       help="how the run is recorded (the scheduler passes 'scheduled')")
    crawl.add_argument("--no-lock", action="store_true",
                       help="do not take the crawl lock (tests of concurrent writers only)")
    crawl.add_argument("--json", action="store_true", help="print the run record as JSON")
    crawl.add_argument("--wait-for-start", action="store_true",
                       help="load everything first, then start when a line arrives on stdin "
                            "(end of input: exit 0, no run); the scheduler starts its next "
                            "crawl process this way ahead of the run")
    crawl.set_defaults(handler=cmd_crawl)

    runs = sub.add_parser("runs", help="list crawl runs, newest first")
    add_db_option(runs)
    runs.add_argument("--limit", type=positive_int, default=20, metavar="N")
    runs.add_argument("--site", metavar="NAME", help="only the runs of this site")
    runs.add_argument("--json", action="store_true", help="JSON output")
    runs.add_argument("--suspects", action="store_true",
                      help="list the fetches held back as suspect or unparseable instead "
                           "(their raw HTML is kept), newest first")
    runs.add_argument("--run", type=positive_int, metavar="ID",
                      help="with --suspects: only those of this run")
    runs.set_defaults(handler=cmd_runs)

    accept = sub.add_parser(
        "accept-suspect", help="confirm a suspect fetch as the article's next version",
        description="After checking a suspect fetch (e.g. a redesign the parser now reads "
                    "through fallbacks), make its record the article's next version.")
    add_db_option(accept)
    accept.add_argument("event_id", type=positive_int, metavar="EVENT",
                        help="fetch event id, as listed by `newsmon runs --suspects`")
    accept.set_defaults(handler=cmd_accept_suspect)


def cmd_crawl(args) -> int:
    import atexit
    import gc

    # Paused again for the rest of start-up (Scrapy's imports, the archive): the run's
    # opening collects once and freezes what start-up made (crawler/extensions.py).
    gc.disable()
    from newsmon.crawl import CrawlError, run_crawls

    # A crawl is the last thing its process does (Twisted's reactor runs once). At exit, the
    # interpreter's final garbage collections would walk every object Scrapy, Twisted,
    # SQLAlchemy and the parser left behind: 0.4-0.7 s of each crawl process on a 2-core
    # machine, which the scheduler waits for before it starts the next run. Frozen objects
    # are left to the OS; by then the run is recorded, and stdout and the logs are flushed.
    atexit.register(gc.freeze)
    if args.wait_for_start and not _wait_for_start():
        return EXIT_OK

    settings = dict(args.settings)
    if args.no_lock:
        settings["NEWSMON_LOCK_ENABLED"] = False
    if verbosity(args) < 0:
        settings.setdefault("NEWSMON_PROGRESS", "off")  # -q: the summary and errors only
    try:
        # A crawl that cannot start raises ConfigError: one line, exit 2 (newsmon.cli.main).
        runs = run_crawls(db=args.db, sites=chosen_sites(args), base_url=args.base_url,
                          recheck=args.recheck, max_articles=args.max_articles,
                          trigger=args.trigger, settings=settings)
    except CrawlError as exc:
        raise CommandError(str(exc)) from exc
    if None in runs:
        raise CommandError("a crawl did not start (see the log above)")
    code = EXIT_OK
    for run in runs:
        if args.json:
            print(json.dumps(run, ensure_ascii=False, default=str))
        else:
            counts = ", ".join(f"{k.replace('_', ' ')} {run.get(k, 0)}"
                               for k in RUN_COUNT_FIELDS)
            print(f"run {run['id']} {run['site']} {run['status']}: {counts}")
        if run["status"] == "skipped":
            print(f"newsmon crawl: another crawl of {run['site']} holds the lock; this run "
                  "was skipped", file=sys.stderr)
        elif run["status"] != "completed":
            # The reason in one line on stderr; stdout keeps the summary scripts parse.
            print(f"newsmon crawl: run {run['id']} {run['site']} {run['status']}: "
                  f"{run.get('note') or 'see the log above'}", file=sys.stderr)
            code = EXIT_FAILURE
    return code


def chosen_sites(args) -> list[str | None]:
    """The sites named by --site / --all-sites, else the configured default set."""
    from crawler.sites import crawlable_sites, default_sites

    if args.all_sites:
        if args.site:
            raise CommandError("--site and --all-sites exclude each other", EXIT_BAD_INPUT)
        sites = crawlable_sites()
        if not sites:
            raise CommandError("no site profile can be crawled (`newsmon sites list`)",
                               EXIT_BAD_INPUT)
        return sites
    return list(dict.fromkeys(args.site)) if args.site else list(default_sites())


def _wait_for_start() -> bool:
    """Load the crawl's modules (2-4 s of a crawl process's start-up), then wait for the go
    line on stdin; False when stdin ends instead. The configuration is read afresh after the
    go, so a setting changed while this process waited applies to its run."""
    from crawler.config import reload
    from newsmon.crawl import preload

    preload()
    if not sys.stdin.readline():
        return False
    reload()
    return True


def cmd_runs(args) -> int:
    from crawler.config import resolve_db_url
    from storage import Archive
    from storage.query import list_runs

    db_url, _ = resolve_db_url(args.db)
    with Archive.open(db_url) as archive:
        if args.suspects:
            return _print_suspects(archive, args)
        runs = list_runs(archive, limit=args.limit, site=args.site)
    if args.json:
        print(json.dumps(runs, ensure_ascii=False, default=str, indent=2))
        return EXIT_OK
    from newsmon.cli.output import print_table

    columns = ["id", "site", "trigger", "status", "started_at", "finished_at", *RUN_COUNT_FIELDS]
    print_table(runs, columns, title="crawl runs")
    return EXIT_OK


def _print_suspects(archive, args) -> int:
    from newsmon.cli.output import print_json, print_table
    from storage.query import list_fetch_events

    events = list_fetch_events(archive, run_id=args.run, limit=args.limit,
                               outcomes=("suspect", "parse_failure"))
    rows = [{"event": e["id"], "run": e["run_id"], "outcome": e["outcome"],
             "fetched_at": e["fetched_at"], "url": e["url"], "reason": e["message"],
             "raw_page": e["raw_page_sha"], "accepted_version": e["version"]} for e in events]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["event", "run", "outcome", "fetched_at", "url", "reason"],
                    title="fetches held back (raw HTML kept)")
    return EXIT_OK


def cmd_accept_suspect(args) -> int:
    from crawler.config import resolve_db_url
    from storage import Archive, ArchiveError

    db_url, _ = resolve_db_url(args.db)
    try:
        with Archive.open(db_url) as archive:
            outcome = archive.accept_suspect(args.event_id)
    except ArchiveError as exc:
        raise CommandError(str(exc), EXIT_BAD_INPUT) from exc
    print(f"event {args.event_id}: {outcome.kind}"
          + (f", version {outcome.version}" if outcome.version else ""))
    return EXIT_OK

