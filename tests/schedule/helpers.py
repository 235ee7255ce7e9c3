"""Shared by the scheduler tests."""

from __future__ import annotations

from pathlib import Path


def crawl_processes(db_url: str) -> list[int]:
    """Pids of the crawl processes (waiting or running) of this archive."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"crawl" in args and db_url.encode() in args:
            pids.append(int(cmdline.parent.name))
    return pids
