"""`newsmon sites list | show NAME | add URL | check NAME`: the site profiles of the
configuration, a new one from a site's address, and how well a profile reads its pages."""

from __future__ import annotations

import json

from newsmon.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, CommandError, positive_int
from newsmon.cli.args import add_command


def register(sub) -> None:
    sites = sub.add_parser("sites", help="list, show, add and check site profiles",
                           description="Site profiles (sites/NAME.toml of the configuration "
                                       "layers): one per monitored news site.")
    commands = sites.add_subparsers(dest="sites_command", metavar="COMMAND", required=True)
    add_command(commands, "list", cmd_list, json="JSON output",
                help="every site profile, with its address and the layers that define it")
    show = add_command(commands, "show", cmd_show, json="JSON output",
                       help="one profile, every layer merged")
    show.add_argument("name", metavar="NAME")
    add = add_command(
        commands, "add", cmd_add, json="JSON report",
        help="discover a site and write a profile for it",
        description="Look at what the site offers (robots.txt Sitemap: lines, /sitemap.xml and "
                    "news sitemaps, RSS/Atom feeds linked from the home or section page), infer "
                    "the article URL pattern, test-parse a few articles with the generic parser "
                    "and write sites/NAME.toml into the configuration directory in effect (the "
                    "project's: $NEWSMON_CONFIG_DIR or ./newsmon.toml's; else the user's).")
    add.add_argument("url", metavar="URL", help="the site's address (a path names the section)")
    add.add_argument("--name", metavar="NAME", help="profile name (default: from the host)")
    add.add_argument("--section", metavar="PATH",
                     help="only articles under this path, e.g. /world/ (also its listing)")
    add.add_argument("--samples", type=positive_int, default=3, metavar="N",
                     help="articles to test-parse (default 3)")
    add.add_argument("--force", action="store_true", help="replace an existing profile")
    check = add_command(
        commands, "check", cmd_check, json="JSON report",
        help="parse a few of the site's pages with its profile, writing nothing",
        description="Fetch up to --pages articles found by the profile's discovery sources and "
                    "print, per field, the share of pages that have it and where it came from: "
                    "missing fields are where the profile needs selectors.")
    check.add_argument("name", metavar="NAME")
    check.add_argument("--pages", type=positive_int, default=5, metavar="N",
                       help="articles to fetch (default 5)")
    check.add_argument("--base-url", metavar="URL",
                       help="fetch from this address instead of the profile's base_url")


def cmd_list(args) -> int:
    from crawler.config import config_layers, resolve_site_profile, site_names

    rows = []
    for name in site_names(config_layers()):
        profile = resolve_site_profile(name)
        site = profile.values.get("site") or {}
        layers = sorted({source for source in profile.sources.values()})
        rows.append({"name": name, "display_name": site.get("display_name") or name,
                     "base_url": site.get("base_url"),
                     "crawlable": bool(site.get("base_url") and site.get("article_pattern")),
                     "layers": layers})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    from newsmon.cli.output import print_table

    print_table(rows, ["name", "display_name", "base_url", "crawlable", "layers"],
                title="site profiles")
    return EXIT_OK


def cmd_show(args) -> int:
    from crawler.config import resolve_site_profile

    profile = resolve_site_profile(args.name)
    if args.json:
        print(json.dumps({"files": profile.files, "profile": profile.values},
                         ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    print("# merged from " + ", ".join(profile.files))
    for table, values in profile.values.items():
        print(f"\n[{table}]")
        items = values.items() if isinstance(values, dict) else [("", values)]
        for key, value in items:
            print(f"{key} = {json.dumps(value, ensure_ascii=False, default=str)}")
    return EXIT_OK


def cmd_add(args) -> int:
    from crawler.onboard import add_site

    report = add_site(args.url, name=args.name, section_path=args.section,
                      samples=args.samples, force=args.force)
    samples = [{"url": s.url, "error": s.error, "fields": s.field_sources()}
               for s in report.samples]
    if args.json:
        print(json.dumps({"name": report.name, "path": str(report.path),
                          "sources": vars(report.sources),
                          "article_pattern": report.article_pattern,
                          "id_pattern": report.id_pattern, "articles": report.candidates,
                          "samples": samples}, ensure_ascii=False, indent=2))
        return EXIT_OK
    found = report.sources
    print(f"wrote {report.path}")
    listing = [found.listing] if found.listing else []
    if listing and found.pagination:
        listing = [f"{found.listing} (pages: {found.pagination}"
                   + (f" {found.page_param}=N)" if found.page_param else ")")]
    for label, urls in (("news sitemaps", found.news_sitemaps), ("sitemaps", found.sitemaps),
                        ("feeds", found.feeds), ("listing", listing)):
        print(f"{label:14} {', '.join(urls) or '-'}")
    print(f"{'pattern':14} {report.article_pattern} ({report.candidates} article URLs)")
    print(f"{'id':14} {report.id_pattern or 'the last path segment'}")
    for sample in samples:
        print(f"\n{sample['url']}")
        if sample["error"]:
            print(f"  not parsed: {sample['error']}")
        for field, source in sample["fields"].items():
            own = "structured data" if source in ("jsonld", "meta") else source
            print(f"  {field:13} {own}")
    print(f"\nnext: newsmon sites check {report.name}; newsmon crawl --site {report.name}")
    return EXIT_OK


def cmd_check(args) -> int:
    from crawler.onboard import REPORT_FIELDS, check_site

    report = check_site(args.name, pages=args.pages, base_url=args.base_url)
    if not report.samples:
        raise CommandError(f"{args.name}: the profile's discovery sources list no article",
                           EXIT_FAILURE)
    coverage = report.coverage()
    parsed = [s for s in report.samples if s.record is not None]
    sources = {field: sorted({s.field_sources().get(field, "missing") for s in parsed})
               for field in REPORT_FIELDS}
    if args.json:
        print(json.dumps({"site": args.name, "pages": len(report.samples),
                          "parsed": len(parsed), "coverage": coverage, "sources": sources,
                          "errors": {s.url: s.error for s in report.samples if s.error}},
                         ensure_ascii=False, indent=2))
    else:
        print(f"{args.name}: {len(parsed)} of {len(report.samples)} pages parsed")
        for sample in report.samples:
            if sample.error:
                print(f"  {sample.url}: {sample.error}")
        for field in REPORT_FIELDS:
            print(f"  {field:13} {coverage.get(field, 0):>4.0%}  {', '.join(sources[field])}")
    if len(parsed) < len(report.samples):
        return EXIT_FAILURE
    return EXIT_OK if parsed else EXIT_BAD_INPUT
