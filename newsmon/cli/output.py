"""Human output for the CLI: tables and colour through rich, plain when piped or NO_COLOR."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from newsmon.jsonable import json_default


def use_colour(stream=None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def console():
    from rich.console import Console

    colour = use_colour()
    # Wide, unstyled output when piped, so that scripts and grep see whole values.
    return Console(no_color=not colour, highlight=False, soft_wrap=not colour,
                   width=None if colour else 200, force_terminal=colour or None)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ", timespec="minutes") if isinstance(value, datetime) \
            else value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def print_table(rows: Iterable[dict[str, Any]], columns: Sequence[str], title: str | None = None,
                headers: dict[str, str] | None = None) -> None:
    """A rich table whose cells are Text, never markup: titles, names, URLs and reasons come
    from scraped pages, and "[...]" in them must print as written."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, title_justify="left")
    for column in columns:
        table.add_column((headers or {}).get(column, column), overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell(row.get(c))) for c in columns))
    console().print(table)


def print_json(data: Any, *, lines: bool = False) -> None:
    if lines:
        for item in data:
            sys.stdout.write(json.dumps(item, ensure_ascii=False, default=json_default) + "\n")
    else:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2,
                                    default=json_default) + "\n")
