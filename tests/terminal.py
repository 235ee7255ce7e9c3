"""Running a command with stderr on a pseudo-terminal, as a user at a terminal would (progress
displays: newsmon/progress.py), while stdout stays a pipe for the test to parse."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_under_pty(args: list[str], module: str = "newsmon") -> tuple[int, str, str]:
    """`python -m MODULE ARGS` with stderr on a pseudo-terminal (200 columns) and stdout on a
    pipe, as `newsmon crawl --json > run.json` on a terminal; (exit code, stdout, terminal
    output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                            # rich prefers COLUMNS to the terminal size: pin it to the pty width.
                            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "200",
                                 "LINES": "50"})
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    stdout = proc.stdout.read().decode()
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")
