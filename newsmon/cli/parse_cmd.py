"""`newsmon parse`: run the article parser on saved pages and print the records as JSON.

One file prints one pretty-printed JSON object; several files print JSON Lines (one compact
record per line, in argument order). `-` reads the page from stdin. A file that cannot be read
or parsed is reported on stderr as one line; the others are still printed, and the command
exits 2 at the end (1 if the parser itself failed on a file: a bug). Bytes are decoded as a
crawl decodes them (crawler/parsers/decode.py, without an HTTP header); a page whose charset
declaration is wrong or missing is still printed, with a one-line warning on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from crawler.config import ConfigError
from crawler.parsers import ParseError, load_profile, parse_article
from crawler.parsers.decode import decode_html
from crawler.sites import default_site
from newsmon.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, CommandError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "parse",
        help="parse saved article pages and print the records as JSON",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="saved HTML page, or - for stdin")
    p.add_argument(
        "--url", help="the address the page was fetched from (default: its canonical URL)"
    )
    p.add_argument(
        "--site", help="site profile, sites/NAME.toml of the configuration (rp, generic; "
                       "default: [crawl].site; `newsmon info` shows both)"
    )
    p.set_defaults(handler=run)


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def run(args: argparse.Namespace) -> int:
    try:
        site = args.site or default_site()
        load_profile(site)  # an unknown profile is one error, not one per file
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_BAD_INPUT) from exc
    several = len(args.files) > 1
    failed = bugs = 0
    # Bytes, so the output is UTF-8 whatever the locale says.
    out = sys.stdout.buffer
    for path in args.files:
        name = "<stdin>" if path == "-" else path
        try:
            decoded = decode_html(_read(path))
            record = parse_article(decoded.text, url=args.url, site=site)
        except FileNotFoundError:
            failed += _report(name, "no such file")
            continue
        except IsADirectoryError:
            failed += _report(name, "is a directory, not a file")
            continue
        except OSError as exc:
            failed += _report(name, f"cannot read: {exc.strerror or exc}")
            continue
        except ParseError as exc:
            failed += _report(name, f"cannot parse: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the other files
            bugs += _report(name, f"parser failure (a bug, please report): {exc!r}")
            continue
        doc = record.to_dict()
        text = json.dumps(doc, ensure_ascii=False, indent=None if several else 2)
        out.write(text.encode("utf-8") + b"\n")
        out.flush()
        if decoded.problem:
            print(f"newsmon parse: warning: {name}: {decoded.problem}", file=sys.stderr)
    if bugs:
        return EXIT_FAILURE
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _report(name: str, message: str) -> int:
    print(f"newsmon parse: error: {name}: {message}", file=sys.stderr)
    return 1
