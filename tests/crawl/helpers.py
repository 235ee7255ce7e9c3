"""Running real crawls (the `newsmon crawl` CLI in a subprocess) and reading the archive back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import Archive
from storage.models import Article, ArticleVersion
from storage.query import get_versions

REPO = Path(__file__).resolve().parents[2]
# Politeness delays off for tests only: the replica is ours and on loopback.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]


@dataclass
class CrawlResult:
    returncode: int
    run: dict[str, Any] | None
    stdout: str
    stderr: str


def newsmon(*args: str, timeout: float = 120, env: dict | None = None,
            cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsmon", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})})


def crawl(base_url: str, db_url: str, *args: str, timeout: float = 120) -> CrawlResult:
    proc = newsmon("crawl", "--base-url", base_url, "--db", db_url, "--json", *FAST, *args,
                   timeout=timeout)
    run = None
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            run = json.loads(line)
    return CrawlResult(proc.returncode, run, proc.stdout, proc.stderr)


def articles(db_url: str) -> dict[str, dict[str, Any]]:
    """article_id -> {status, url, versions (count), current_version}."""
    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        counts = dict(s.execute(
            select(ArticleVersion.article_id, func.count()).group_by(ArticleVersion.article_id)
        ).all())
        return {
            a.article_id: {"status": a.status, "url": a.url, "versions": counts.get(a.id, 0),
                           "current_version": a.current_version, "etag": a.etag}
            for a in s.scalars(select(Article))
        }


def versions(db_url: str, article_id: str) -> list[dict[str, Any]]:
    with Archive.open(db_url) as archive:
        return get_versions(archive, article_id)


def run_record(db_url: str, run_id: int) -> dict[str, Any]:
    with Archive.open(db_url) as archive:
        return archive.get_run(run_id)
