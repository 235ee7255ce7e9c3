"""Declaring a command: the subparser with its handler and the options many commands share
(`--db`, `--json`), so that each command module states only what is its own."""

from __future__ import annotations

from collections.abc import Callable

from newsmon.cli.crawl_cmd import add_db_option


def add_command(sub, name: str, handler: Callable, *, help: str, description: str | None = None,
                db: bool = False, json: str | None = None):
    """A subcommand `name` run by `handler`; `db`: it takes `--db`; `json`: the help of its
    `--json` flag (None: no flag). Returns the parser for the command's own arguments."""
    parser = sub.add_parser(name, help=help, description=description)
    if db:
        add_db_option(parser)
    if json is not None:
        parser.add_argument("--json", action="store_true", help=json)
    parser.set_defaults(handler=handler)
    return parser
