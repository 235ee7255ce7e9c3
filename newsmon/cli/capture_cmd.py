"""`newsmon raw` and `newsmon fixture add`: a stored page as it was served, or as a parser
test case (newsmon/capture.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from newsmon.cli import EXIT_BAD_INPUT, EXIT_OK, CommandError
from newsmon.cli.crawl_cmd import add_db_option

TARGET_HELP = ("ARTICLE[@VERSION] (ARTICLE as for show; default: its current version) or "
               "event:ID (a fetch event, as `runs --suspects` lists them)")


def register(sub) -> None:
    p = sub.add_parser("raw", help="write a stored page as it was served",
                       description="The stored page of a version or a fetch event, "
                                   "decompressed: the original bytes, as the site sent them.")
    add_db_option(p)
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    p.set_defaults(handler=cmd_raw)

    fixture = sub.add_parser("fixture", help="parser test cases from the archive")
    actions = fixture.add_subparsers(dest="fixture_command", metavar="ACTION")
    actions.required = True
    add = actions.add_parser(
        "add", help="turn a stored page into a parser fixture folder",
        description="Write tests/fixtures/pages/NAME/: the page's bytes, URL, site, content "
                    "type and fetch time, and expected.json from the current parser. Then "
                    "fix the parser, correct expected.json, and `pytest -k NAME` guards it.")
    add_db_option(add)
    add.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    add.add_argument("name", metavar="NAME", help="the fixture's folder name")
    add.add_argument("--dir", type=Path, default=Path("tests/fixtures/pages"),
                     help="where fixture folders live (default: tests/fixtures/pages)")
    add.add_argument("--force", action="store_true", help="replace an existing folder")
    add.set_defaults(handler=cmd_fixture_add)


def _page(args):
    from crawler.config import resolve_db_url
    from newsmon.capture import CaptureError, split_version, stored_page
    from newsmon.cli.query_cmd import _article_ref
    from storage import Archive
    from storage.query import QueryError

    db_url, _ = resolve_db_url(args.db)
    try:
        target = args.target
        if not target.startswith("event:"):
            ref, version = split_version(target)
            target = _article_ref(ref) + (f"@{version}" if version else "")
        with Archive.open(db_url) as archive:
            return stored_page(archive, target)
    except (QueryError, CaptureError) as exc:
        raise CommandError(str(exc), EXIT_BAD_INPUT) from None


def cmd_raw(args) -> int:
    page = _page(args)
    if args.output:
        try:
            Path(args.output).write_bytes(page["data"])
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror}",
                               EXIT_BAD_INPUT) from None
        print(f"{len(page['data'])} bytes ({page['content_type'] or 'no content type'}) "
              f"written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(page["data"])
        sys.stdout.buffer.flush()
    return EXIT_OK


def cmd_fixture_add(args) -> int:
    from crawler.parsers import ParseError
    from newsmon.capture import CaptureError, add_fixture

    if not args.dir.is_dir():
        raise CommandError(f"no folder {args.dir}: run from the repository or give --dir",
                           EXIT_BAD_INPUT)
    page = _page(args)
    try:
        folder = add_fixture(page, args.name, args.dir, force=args.force)
    except (CaptureError, ParseError) as exc:
        raise CommandError(str(exc), EXIT_BAD_INPUT) from None
    print(f"fixture {folder}: article {page['article_id']} version {page['version']}, "
          f"{len(page['data'])} bytes; check expected.json, then pytest -k {args.name}")
    return EXIT_OK
