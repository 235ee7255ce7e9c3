"""`newsmon articles|show|versions|diff|search|export|stats`: reading the archive.

Thin layer over storage.query: parse arguments, call one function, format the result
(rich tables and colour on a terminal, plain text when piped or NO_COLOR, `--json` for
scripts). Bad input (a malformed search, an unknown article or version, a bad date) exits 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime

from newsmon.cli import EXIT_BAD_INPUT, EXIT_OK, CommandError, positive_int
from newsmon.cli.crawl_cmd import add_db_option
from newsmon.cli.output import print_table

SEARCH_SYNTAX = """\
query syntax:
  word          the word, case and Polish diacritics folded both ways ("lodz" finds "Łódź")
  stoltenb*     words starting with "stoltenb"
  "two words"   the phrase
  a b, a AND b  both;   a OR b  either;   -a, NOT a  without a;   ( ) to group
"""


# -- arguments ------------------------------------------------------------------------------------


def _date(text: str) -> date | datetime:
    """YYYY-MM-DD (a whole day, UTC) or an ISO 8601 date-time."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (expected YYYY-MM-DD or an ISO 8601 date-time)"
        ) from None


def _add_filters(parser) -> None:
    from storage.query import ORDERS  # noqa: F401  (import check: keeps --help honest)

    group = parser.add_argument_group("filters (on each article's current version)")
    group.add_argument("--since", type=_date, metavar="DATE",
                       help="published on or after DATE (YYYY-MM-DD or ISO date-time)")
    group.add_argument("--until", type=_date, metavar="DATE",
                       help="published on or before DATE (a date includes the whole day)")
    group.add_argument("--author", metavar="NAME",
                       help="by this author (whole words, case and diacritics folded)")
    group.add_argument("--site", metavar="NAME", help="of this site (its profile name)")
    group.add_argument("--section", metavar="NAME", help="in this section (case-insensitive)")
    group.add_argument("--tag", metavar="TAG", help="with this tag (as --author)")
    pay = group.add_mutually_exclusive_group()
    pay.add_argument("--paywalled", dest="paywalled", action="store_const", const=True,
                     help="paywalled articles only")
    pay.add_argument("--free", dest="paywalled", action="store_const", const=False,
                     help="free articles only")
    group.add_argument("--changed", action="store_true",
                       help="only articles with more than one version")
    group.add_argument("--changed-since", type=_date, metavar="DATE",
                       help="only articles that got a new version since DATE")


def _filter(args):
    from storage.query import ArticleFilter

    return ArticleFilter(
        since=args.since, until=args.until, author=args.author, section=args.section,
        tag=args.tag, paywalled=args.paywalled, changed=args.changed,
        changed_since=args.changed_since, site=args.site,
    )


def register(sub) -> None:
    from storage.query import ORDERS

    p = sub.add_parser("articles", help="list archived articles (filters, newest first)",
                       description="One row per article: id, published, title, authors, "
                                   "versions, paywall %.")
    add_db_option(p)
    _add_filters(p)
    p.add_argument("--limit", type=positive_int, default=50, metavar="N",
                   help="at most N rows (default 50)")
    p.add_argument("--order", choices=list(ORDERS), default="newest",
                   help="; ".join(f"{k}: {v}" for k, v in ORDERS.items()))
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=cmd_articles)

    p = sub.add_parser("show", help="print one article (latest or a given version)",
                       description="The record of the article's latest or given version.")
    add_db_option(p)
    _add_article(p, "archive id, the site's article id (40671561 or art40671561) or URL")
    p.add_argument("--version", type=positive_int, metavar="N", help="version N (default: latest)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("versions", help="an article's version history",
                       description="Every version with when it was fetched and what changed.")
    add_db_option(p)
    _add_article(p, "as for show")
    p.add_argument("--artefacts", action="store_true",
                   help="also versions a re-parse found equal to the one before them")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=cmd_versions)

    p = sub.add_parser(
        "diff", help="what changed between two versions of an article",
        description="Per-field diff between versions FROM and TO (default: the last two); "
                    "word-level for title, lead and body. Colour on a terminal, "
                    "[-removed-]{+added+} markers when piped.")
    add_db_option(p)
    _add_article(p, "as for show")
    p.add_argument("versions", nargs="*", type=positive_int, metavar="FROM TO",
                   help="the two versions to compare")
    p.add_argument("--full", action="store_true",
                   help="show the whole body, not only the changed passages")
    p.add_argument("--artefacts", action="store_true",
                   help="the default pair may be a parser artefact (see versions)")
    p.add_argument("--json", action="store_true", help="structured per-field diff as JSON")
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("search", help="full-text search (title, lead, body)",
                       description="Full-text search of the current versions (title, lead, "
                                   "body), with highlighted snippets. Ranking: among the newest "
                                   "250 matches (or --limit, if larger), those in the title "
                                   "first, then the lead, then the body, newest first; "
                                   "--rank-all ranks every match by relevance.",
                       epilog=SEARCH_SYNTAX, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_db_option(p)
    p.add_argument("query", metavar="QUERY", help="what to look for (syntax below)")
    p.add_argument("--all-versions", action="store_true",
                   help="search every version, not only the current ones")
    p.add_argument("--limit", type=positive_int, default=20, metavar="N",
                   help="at most N results (default 20)")
    p.add_argument("--rank-all", action="store_true",
                   help="rank every match by relevance, not only the newest 250 "
                        "(slow for common words)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("export", help="export records as JSON lines or CSV (streamed)",
                       description="Stream the current version of each selected article "
                                   "(every version with --versions) to stdout or a file.")
    add_db_option(p)
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                   help="output format (default jsonl)")
    p.add_argument("--versions", action="store_true", help="every version, not only current")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--raw", action="store_true",
                   help="CSV: do not neutralise cells that start like a spreadsheet formula "
                        "(=, +, -, @)")
    _add_filters(p)
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("stats", help="archive statistics",
                       description="Articles, versions, changes per day, top changed fields, "
                                   "authors, paywall share.")
    add_db_option(p)
    p.add_argument("--days", type=positive_int, default=30, metavar="N",
                   help="changes per day over the last N days (default 30)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=cmd_stats)


# -- plumbing -------------------------------------------------------------------------------------


def _add_article(parser, help_text: str) -> None:
    parser.add_argument("article", metavar="ARTICLE", help=help_text)
    parser.add_argument("--site", metavar="NAME",
                        help="ARTICLE is of this site: read with its id notation, looked up "
                             "among its articles (default: the configured site's notation, "
                             "any site)")


def _resolved(archive, args):
    """ARTICLE of the command, as the query functions take it."""
    from crawler.sites import site_article_ref

    ref = site_article_ref(args.article, args.site)
    if not args.site:
        return ref
    from storage.query import resolve_article

    return resolve_article(archive, ref, site=args.site)


def _article_ref(text: str) -> str:
    """ARTICLE as the archive resolves it (crawler.sites.site_article_ref: the configured
    site's id notation becomes the bare id)."""
    from crawler.sites import site_article_ref

    return site_article_ref(text)


class _Open:
    """The archive for a command, with library errors turned into CLI errors."""

    def __init__(self, args):
        self.args = args

    def __enter__(self):
        from crawler.config import resolve_db_url
        from storage import Archive

        url, _ = resolve_db_url(self.args.db)
        self.archive = Archive.open(url)
        return self.archive

    def __exit__(self, exc_type, exc, tb):
        from storage.query import QueryError

        self.archive.close()
        if exc_type is not None and issubclass(exc_type, QueryError):
            raise CommandError(str(exc), EXIT_BAD_INPUT) from None
        return False


def _print_json(data) -> None:
    from newsmon.cli.output import print_json

    print_json(data)


# -- commands -------------------------------------------------------------------------------------


def cmd_articles(args) -> int:
    from storage.query import list_articles

    with _Open(args) as archive:
        rows = list_articles(archive, _filter(args), limit=args.limit, order=args.order)
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print("no articles match", file=sys.stderr)
        return EXIT_OK
    for row in rows:
        row["paywall"] = _paywall(row)
    print_table(rows, ["id", "article_id", "published_at", "title", "authors", "versions",
                       "paywall"],
                headers={"article_id": "rp id", "published_at": "published"})
    return EXIT_OK


def _paywall(row) -> str:
    if not row.get("paywalled"):
        return "free"
    percent = row.get("paywall_percent")
    return f"{percent}%" if percent is not None else "paywalled"


def cmd_show(args) -> int:
    from newsmon.cli.output import cell, console
    from storage.query import get_version

    with _Open(args) as archive:
        record = get_version(archive, _resolved(archive, args), args.version)
    if args.json:
        _print_json(record)
        return EXIT_OK
    from rich.text import Text

    out = console()
    out.print(Text(record.get("title") or "(no title)", style="bold"))
    meta = [("version", f"{record['version']} of {record['versions']}"),
            ("fetched", cell(record["fetched_at"])),
            ("site", record.get("site")), ("id", record["article_id"]), ("url", record["url"]),
            ("published", cell(record["published_at"])), ("updated", cell(record["updated_at"])),
            ("authors", cell(record["authors"])), ("section", record["section"]),
            ("tags", cell(record["tags"])), ("paywall", _paywall(record)),
            ("words", cell(record["word_count"])), ("status", record["status"])]
    for key, value in meta:
        if value not in (None, ""):
            out.print(Text(f"{key:>10}: ", style="dim") + Text(str(value)))
    for name in ("lead", "body"):
        if record.get(name):
            out.print()
            out.print(Text(record[name], style="italic" if name == "lead" else ""))
    return EXIT_OK


def cmd_versions(args) -> int:
    from storage.query import list_versions

    with _Open(args) as archive:
        rows = list_versions(archive, _resolved(archive, args), artefacts=args.artefacts)
    if args.json:
        _print_json([{k: r[k] for k in ("version", "fetched_at", "content_hash",
                                        "changed_fields", "title", "change_summary",
                                        "parser_fingerprint", "artefact")}
                     for r in rows])
        return EXIT_OK
    for row in rows:
        row["hash"] = row["content_hash"][:12]
        if row["artefact"]:
            row["changed_fields"] = "(parser artefact)"
    print_table(rows, ["version", "fetched_at", "changed_fields", "hash", "parser_fingerprint",
                       "title"],
                headers={"fetched_at": "fetched", "changed_fields": "changed",
                         "parser_fingerprint": "parser"})
    return EXIT_OK


def cmd_diff(args) -> int:
    from storage.query import diff_versions

    if len(args.versions) not in (0, 2):
        raise CommandError("give two versions (FROM TO) or none", EXIT_BAD_INPUT)
    versions = args.versions or [None, None]
    with _Open(args) as archive:
        diff = diff_versions(archive, _resolved(archive, args), *versions,
                             artefacts=args.artefacts)
    if args.json:
        _print_json(diff)
        return EXIT_OK
    _print_diff(diff, full=args.full)
    return EXIT_OK


def _print_diff(diff, *, full: bool) -> None:
    from rich.text import Text

    from newsmon.cli.output import cell, console, use_colour
    from storage.query import condense, render_markers

    colour = use_colour()
    out = console()
    head = (f"article {diff['id']} (rp {diff['article_id']}): version {diff['from']} "
            f"({cell(diff['from_fetched_at'])}) -> {diff['to']} ({cell(diff['to_fetched_at'])})")
    out.print(Text(head, style="bold"))
    if not diff["fields"]:
        out.print("no differences")
    for entry in diff["fields"]:
        out.print()
        out.print(Text(f"{entry['field']}:", style="bold cyan"))
        if "ops" in entry:
            ops = entry["ops"] if full or entry["field"] != "body" else condense(entry["ops"])
            if colour:
                line = Text()
                for op in ops:
                    style = {"equal": "", "delete": "red strike", "insert": "green"}[op["op"]]
                    line.append(op["text"], style=style)
                out.print(line)
            else:
                out.print(Text(render_markers(ops)))
        else:
            old = Text(f"- {_show_value(entry['old'])}", style="red")
            new = Text(f"+ {_show_value(entry['new'])}", style="green")
            out.print(old)
            out.print(new)


def _show_value(value) -> str:
    import json

    from newsmon.cli.output import cell

    if isinstance(value, dict) or (isinstance(value, list) and value
                                   and isinstance(value[0], dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return cell(value) if value is not None else "(none)"


def cmd_search(args) -> int:
    from rich.text import Text

    from newsmon.cli.output import cell, console, use_colour
    from storage.query import RANK_WINDOW, search

    colour = use_colour()
    # Marks the terminal output restyles; JSON keeps the library's visible [ ] marks.
    marks = ("\x02", "\x03") if (colour and not args.json) else ("[", "]")
    with _Open(args) as archive:
        hits = search(archive, args.query, all_versions=args.all_versions, limit=args.limit,
                      marks=marks,
                      window=None if args.rank_all else max(RANK_WINDOW, args.limit))
    if args.json:
        for hit in hits:
            hit.pop("version_id", None)
        _print_json(hits)
        return EXIT_OK
    if not hits:
        print("no matches", file=sys.stderr)
        return EXIT_OK
    out = console()
    for n, hit in enumerate(hits, 1):
        version = f" v{hit['version']}/{hit['versions']}" if args.all_versions else ""
        line = Text(f"{n:>2}. ", style="dim")
        line += _marked(hit["title_highlighted"] or "", marks, colour, "bold")
        out.print(line)
        out.print(Text(f"    {hit['id']} · rp {hit['article_id']}{version} · "
                       f"{cell(hit['published_at'])} · {hit['url']}", style="dim"))
        if hit["snippet"]:
            out.print(Text("    ") + _marked(hit["snippet"], marks, colour, ""))
    return EXIT_OK


def _marked(value: str, marks, colour: bool, base: str):
    """rich Text of a highlighted string: marked spans styled on a terminal, else kept."""
    from rich.text import Text

    if not colour:
        return Text(value, style=base)
    text = Text(style=base)
    rest = value
    while marks[0] in rest:
        before, _, tail = rest.partition(marks[0])
        inside, _, rest = tail.partition(marks[1])
        text.append(before)
        text.append(inside, style="bold reverse")
    text.append(rest)
    return text


def cmd_export(args) -> int:
    from newsmon.progress import counted
    from storage.query import export_records, write_csv, write_jsonl

    out = sys.stdout
    handle = None
    if args.output:
        try:
            handle = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror}", EXIT_BAD_INPUT) \
                from None
        out = handle
    try:
        with _Open(args) as archive, _export_progress(args) as progress:
            records = export_records(archive, _filter(args), all_versions=args.versions)
            if progress is not None:  # on stderr, beside a file: never into the export
                records = counted(records, progress)
            if args.format == "jsonl":
                count = write_jsonl(records, out)
            else:
                count = write_csv(records, out, raw=args.raw)
    finally:
        if handle is not None:
            handle.close()
    if args.output:
        print(f"exported {count} records to {args.output}", file=sys.stderr)
    return EXIT_OK


def _export_progress(args):
    import contextlib

    from newsmon.cli import verbosity
    from newsmon.progress import Reporter

    if not args.output or verbosity(args) < 0:
        return contextlib.nullcontext()
    return Reporter("export", unit="records")


def cmd_stats(args) -> int:
    from rich.text import Text

    from newsmon.cli.output import cell, console
    from storage.query import archive_stats

    with _Open(args) as archive:
        stats = archive_stats(archive, days=args.days)
    if args.json:
        _print_json(stats)
        return EXIT_OK
    out = console()
    summary = [
        ("articles", stats["articles"]), ("versions", stats["versions"]),
        ("changed articles", f"{stats['changed_articles']} ({stats['changed_share']:.1%})"),
        ("published", f"{cell(stats['published_first'])} .. {cell(stats['published_last'])}"),
        ("status", ", ".join(f"{k} {v}" for k, v in sorted(stats["status"].items()))),
        ("paywalled", f"{stats['paywalled']} ({stats['paywall_share']:.1%}), average "
                      f"{cell(stats['paywall_percent_avg'])}% left behind the wall"),
        ("authors", stats["authors"]),
    ]
    for key, value in summary:
        out.print(Text(f"{key:>17}: ", style="dim") + Text(str(value)))
    if stats["changes_per_day"]:
        print_table([{"day": d, "changes": n} for d, n in stats["changes_per_day"].items()],
                    ["day", "changes"], title=f"changes per day (last {args.days} days)")
    if stats["top_changed_fields"]:
        print_table([{"field": f, "changes": n} for f, n in stats["top_changed_fields"]],
                    ["field", "changes"], title="most changed fields")
    if stats["top_authors"]:
        print_table([{"author": a, "articles": n} for a, n in stats["top_authors"]],
                    ["author", "articles"], title="top authors")
    return EXIT_OK
