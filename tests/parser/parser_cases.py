"""Shared helpers for the parser tests: fixture folders and replica pages (a plain module with
a distinctive name, so it cannot clash with conftest.py files of other test folders)."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# $NEWSMON_FIXTURE_PAGES names another folder of cases (tests of `newsmon fixture add`).
PAGES = Path(os.environ.get("NEWSMON_FIXTURE_PAGES") or REPO / "tests" / "fixtures" / "pages")

# `tests.replica` is imported as a package from the repository root.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@lru_cache(maxsize=1)
def replica_site():
    """The replica's default site, or None while `tests.replica` is not available."""
    try:
        from tests.replica import ReplicaSite
    except ImportError:
        return None
    return ReplicaSite.default()


def _site_for(spec: dict):
    """The default site, or a fresh one changed as replica.json asks: "preview_only" (the
    2025 page as a non-subscriber gets it), "redesign" (every class and known id renamed)."""
    site = replica_site()
    if site is None:
        pytest.skip("tests.replica is not available")
    if not (spec.get("preview_only") or spec.get("redesign")):
        return site
    site = type(site).default()
    if spec.get("preview_only"):
        site.serve_preview_only(replica_id(spec, site))
    if spec.get("redesign"):
        site.redesign = True
    return site


def replica_id(spec: dict, site=None) -> str:
    """replica.json names an article by id, or by the replica's case name."""
    if spec.get("article_id"):
        return str(spec["article_id"])
    site = site or replica_site()
    if site is None:
        pytest.skip("tests.replica is not available")
    return str(site.case(spec["case"]).article_id)


def replica_page(spec: dict) -> tuple[str, dict]:
    """(rendered page, the replica's own ground truth) for a replica.json spec."""
    site = _site_for(spec)
    article_id = replica_id(spec, site)
    return site.render(article_id), site.expected(article_id)


class Case:
    """One fixture folder: the page (page.html, or replica.json naming a replica article), the
    optional url.txt, site.txt, content_type.txt and fetched_at.txt (`newsmon fixture add`
    writes them), and expected.json."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.name = folder.name

    def _read(self, name: str) -> str | None:
        path = self.folder / name
        return path.read_text(encoding="utf-8").strip() if path.exists() else None

    @property
    def replica(self) -> dict | None:
        raw = self._read("replica.json")
        return json.loads(raw) if raw else None

    def html(self) -> bytes | str:
        if self.replica:
            return replica_page(self.replica)[0]
        return (self.folder / "page.html").read_bytes()

    def ground_truth(self) -> dict | None:
        """The replica's expected record for this page (None for hand-made pages)."""
        return replica_page(self.replica)[1] if self.replica else None

    @property
    def url(self) -> str | None:
        return self._read("url.txt") or None

    @property
    def site(self) -> str:
        return self._read("site.txt") or "rp"

    @property
    def content_type(self) -> str | None:
        """The HTTP Content-Type the page came with (its bytes are decoded with it)."""
        return self._read("content_type.txt") or None

    @property
    def fetched_at(self) -> datetime | None:
        """When the page was fetched: the profile variant in force then parses it."""
        raw = self._read("fetched_at.txt")
        return datetime.fromisoformat(raw) if raw else None

    @property
    def expected(self) -> dict | None:
        raw = self._read("expected.json")
        return json.loads(raw) if raw else None


def all_cases() -> list[Case]:
    return [Case(p) for p in sorted(PAGES.iterdir()) if p.is_dir()]
