"""JSON of what the library returns, the same in the CLI's --json and the web API: dates as
ISO 8601, bytes as text, anything else JSON cannot hold as its string."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def json_default(value: Any) -> Any:
    """`default=` for json.dumps."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
