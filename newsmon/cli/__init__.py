"""The `newsmon` command. Each command group lives in its own module and registers itself;
commands parse arguments and format output, the work happens in crawler/ and storage/."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from crawler.config import ConfigError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class CommandError(Exception):
    """A failure to report on stderr as one clear line, with an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE):
        super().__init__(message)
        self.exit_code = exit_code


def positive_int(text: str) -> int:
    """argparse type for counts and ids: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors are bad input: exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _command_modules() -> list:
    # Imported here so that `newsmon --help` stays fast and one broken module is reported clearly.
    modules = []
    names = ("parse_cmd", "crawl_cmd", "info_cmd", "init_cmd", "db_cmd", "query_cmd",
             "schedule_cmd", "health_cmd", "serve_cmd", "notify_cmd", "reparse_cmd",
             "capture_cmd", "cluster_cmd", "sites_cmd")
    for name in names:
        try:
            modules.append(__import__(f"newsmon.cli.{name}", fromlist=[name]))
        except ModuleNotFoundError as exc:
            if exc.name != f"newsmon.cli.{name}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="newsmon",
        description="Archive news articles and every change made to them after publication.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in _command_modules():
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    levels = {0: logging.WARNING, 1: logging.INFO}
    logging.basicConfig(
        level=levels.get(args.verbose, logging.DEBUG),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args) or EXIT_OK
    except CommandError as exc:
        print(f"newsmon {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ConfigError as exc:
        print(f"newsmon {args.command}: configuration error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"newsmon {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
