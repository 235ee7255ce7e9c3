"""`python -m bench --quick` runs to the end and writes valid JSON with every section.

A smoke run only: no timing assertions (these machines are shared and noisy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

REPO = Path(__file__).resolve().parents[1]


def test_bench_quick_writes_every_section(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--output", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["quick"] is True
    assert results["commit"] and results["date"]
    sections = results["sections"]
    assert set(sections) == {"parse", "crawl", "cpu", "storage", "query", "web", "reparse"}
    assert "rows" in sections["web"]
    reparse = sections["reparse"]
    assert reparse["figures"]["corrected"]["changed"] == reparse["versions"] > 0
    assert reparse["figures"]["unchanged"]["per_s"]["median"] > 0

    parse = sections["parse"]
    for key in ("floor_ms", "newsmon_ms", "trafilatura_ms", "newsmon_x_floor"):
        assert parse[key]["median"] > 0
        assert parse[key]["min"] <= parse[key]["median"] <= parse[key]["max"]

    crawl = sections["crawl"]
    sqlite = crawl["sqlite"]
    assert sqlite["articles_archived"]["median"] > 0
    assert sqlite["errors"] == 0
    assert sqlite["incremental"]["new_versions"]["max"] == 0
    assert "postgresql" in crawl  # figures, or the reason PostgreSQL was skipped
    assert crawl["rss_scaling"]["growth"] is not None

    # The floor and peer spiders fetch (and the peer archives) every article newsmon archives.
    for fig in sections["cpu"]["weights"].values():
        counts = {name: [r["articles"] for r in fig["runs"][name]]
                  for name in ("floor", "peer", "sqlite")}
        assert counts["floor"] == counts["peer"] == counts["sqlite"], counts
        assert counts["floor"][0] > 0 and fig["floor"]["median"] > 0
    real = sections["cpu"]["weights"]["real weight"]
    assert real["page_kb"] > 400

    storage = sections["storage"]
    assert storage["compression"]["chosen"] in storage["compression"]["methods"]
    assert storage["archives"]["sqlite"]["versions"] > 0

    assert "rows" in sections["query"] or "skipped" in sections["query"]
    # The printed table is the one written to the file.
    assert results["table"].splitlines()[0] in proc.stdout
