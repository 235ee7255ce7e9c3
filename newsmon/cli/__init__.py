"""The `newsmon` command. Each command group lives in its own module and registers itself;
commands parse arguments and format output, the work happens in crawler/ and storage/."""

from __future__ import annotations

import argparse
import gc
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
    _add_verbosity(parser, default=0)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in _command_modules():
        module.register(sub)
    _add_verbosity_below(parser)
    return parser


def _add_verbosity(parser, default) -> None:
    # default: 0 on the top parser, SUPPRESS below it
    parser.add_argument("-v", "--verbose", action="count", default=default,
                        help="more log output: -v Scrapy's INFO lines and tracebacks of "
                             "network failures, -vv DEBUG")
    parser.add_argument("-q", "--quiet", action="store_true",
                        default=False if default == 0 else argparse.SUPPRESS,
                        help="no progress display or warnings: the final summary and errors")


def _add_verbosity_below(parser) -> None:
    # Every command takes -q/-v after its name too (`newsmon crawl -v`); SUPPRESS keeps a
    # flag given before the command name.
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_verbosity(child, default=argparse.SUPPRESS)
                _add_verbosity_below(child)


def verbosity(args: argparse.Namespace) -> int:
    """-1 with -q, else the number of -v (newsmon.logpolicy.level_for)."""
    return -1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0)


def main(argv: Sequence[str] | None = None) -> int:
    # Start-up makes objects that live as long as the process (modules, classes, the parser):
    # the cyclic collector would walk them all, twice in full, while they are imported.
    gc.disable()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    finally:
        gc.enable()
    from newsmon.logpolicy import level_for

    logging.basicConfig(
        level=level_for(verbosity(args)),
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
