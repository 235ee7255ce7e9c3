"""`newsmon schedule`: the crawl daemon (or one cycle with --once, for system cron)."""

from __future__ import annotations

import logging

from newsmon.cli import EXIT_BAD_INPUT, CommandError, positive_int
from newsmon.cli.crawl_cmd import add_crawl_options, chosen_sites


def register(sub) -> None:
    p = sub.add_parser(
        "schedule", help="run crawls on a schedule (daemon)",
        description="Run the crawl on the cron/interval schedule of the configuration's "
                    "[schedule] table (`newsmon info`), one crawl subprocess at a time. "
                    "SIGTERM/SIGINT stop it cleanly (exit 0).",
    )
    add_crawl_options(p)
    when = p.add_mutually_exclusive_group()
    when.add_argument("--cron", metavar="EXPR", help='crontab expression, e.g. "*/15 * * * *"')
    when.add_argument("--every", type=float, metavar="SECONDS", help="fixed interval")
    durations = (
        ("--jitter", float, "random delay of up to this per run, capped at a tenth of the "
                            "shortest gap between two runs"),
        ("--timeout", float, "stop a crawl running longer than this (SIGINT, then kill)"),
        ("--stop-grace", float, "seconds between SIGINT and kill when stopping a crawl"),
        ("--misfire-grace", int, "a run late by less than this still happens, once"),
    )
    for flag, kind, text in durations:
        p.add_argument(flag, type=kind, metavar="SECONDS", help=text)
    p.add_argument("--max-concurrent", type=positive_int, metavar="N",
                   help="with several sites: at most N crawls at once (default "
                        "[schedule].max_concurrent, 2); never two of one site")
    p.add_argument("--once", action="store_true",
                   help="run a single scheduled cycle and exit (for system cron)")
    p.add_argument("--log-file", metavar="PATH", help="also append the run log to this file")
    p.set_defaults(handler=cmd_schedule)


def cmd_schedule(args) -> int:
    from crawler.config import load_site_profile, resolve_db_url, section
    from crawler.sites import default_site
    from crawler.urls import SiteRules
    from newsmon.scheduler import CrawlSupervisor, run_sites_daemon

    conf = section("schedule")
    db_url, _ = resolve_db_url(args.db)
    if args.base_url and (args.all_sites or len(args.site or []) > 1):
        raise CommandError("--base-url applies to one site", EXIT_BAD_INPUT)
    sites = [site or default_site() for site in chosen_sites(args)]
    options = []
    for site in sites:
        profile = load_site_profile(site)
        # Checked once here (ConfigError: exit 2) rather than failing every scheduled run.
        SiteRules.from_profile(profile, args.base_url)
        # A profile's own [schedule] (cron or every, jitter) overrides the configuration's.
        own = profile.get("schedule") or {}
        merged = dict(conf)
        if "cron" in own or "every" in own:  # the site's trigger replaces the whole default
            merged.pop("cron", None)
            merged.pop("every", None)
        options.append(_site_options(args, site, {**merged, **own}, db_url))
    _setup_logging(args.log_file)
    if args.once:
        code = 0
        for site_options in options:
            code = max(code, CrawlSupervisor(site_options).run_once())
        return code
    max_concurrent = args.max_concurrent or int(conf.get("max_concurrent", 2))
    return run_sites_daemon(options, max_concurrent)


def _site_options(args, site: str, conf: dict, db_url: str):
    from newsmon.scheduler import ScheduleOptions

    cron, every = args.cron, args.every
    if cron is None and every is None:
        cron, every = conf.get("cron"), conf.get("every")
        if cron and every:
            every = None  # config gives both: cron wins, as documented
    if every is not None and every <= 0:
        raise CommandError("--every must be positive", EXIT_BAD_INPUT)
    jitter = args.jitter if args.jitter is not None else conf.get("jitter")
    if jitter is not None and jitter < 0:
        raise CommandError("--jitter must not be negative", EXIT_BAD_INPUT)
    options = ScheduleOptions(
        db_url=db_url, site=site, cron=cron, every=every,
        timezone=conf.get("timezone", "Europe/Warsaw"),
        jitter=jitter,
        misfire_grace_time=args.misfire_grace or int(conf.get("misfire_grace_time", 600)),
        run_timeout=args.timeout or float(conf.get("run_timeout", 3600)),
        stop_grace=args.stop_grace or float(conf.get("stop_grace", 30)),
        base_url=args.base_url, recheck=args.recheck or conf.get("recheck", "due"),
        max_articles=args.max_articles, settings=[*_progress_setting(args), *args.settings],
    )
    try:
        options.trigger()
    except ValueError as exc:
        raise CommandError(f"invalid schedule of {site}: {exc}", EXIT_BAD_INPUT) from exc
    return options


def _progress_setting(args) -> list[tuple[str, str]]:
    # The crawl processes write to this process's stderr: a live display for the one crawl of
    # --once on a terminal; the daemon's crawls (several at once, between its own log lines)
    # log progress lines instead; nothing with -q (newsmon/progress.py). -s still wins.
    from newsmon.cli import verbosity

    if verbosity(args) < 0:
        return [("NEWSMON_PROGRESS", "off")]
    return [] if args.once else [("NEWSMON_PROGRESS", "log")]


def _setup_logging(log_file: str | None) -> None:
    log = logging.getLogger("newsmon.schedule")
    log.setLevel(logging.INFO)
    log.propagate = False
    fmt = logging.Formatter("%(asctime)s newsmon.schedule: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(fmt)
        log.addHandler(handler)
