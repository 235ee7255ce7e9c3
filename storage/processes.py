"""Is the process that holds a run or the lease still there? Linux /proc checks, for records
written on this host (a pid means nothing on another machine)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (zombies count as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_started_at(pid: int) -> datetime | None:
    """When process `pid` started (Linux /proc); None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_gone(pid: int | None, since: datetime) -> bool:
    """Whether the process that was `pid` at `since` (on this host) has ended: no such pid,
    a zombie, or a process that started after `since` (the pid was reused)."""
    if pid is None:
        return False
    if not pid_alive(pid):
        return True
    started = process_started_at(pid)
    # btime has one-second resolution: allow for it.
    return started is not None and started > since + timedelta(seconds=2)
