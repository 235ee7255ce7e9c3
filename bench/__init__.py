"""newsmon's performance benchmarks: `python -m bench [--quick]` (see bench/README.md).

Absolute times on shared machines are noise, so every figure is taken several times in one
run and reported as median with min and max, and the headline numbers are ratios measured
side by side (parser vs lxml floor vs trafilatura, second crawl vs first crawl, ...).
"""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results.json"


def summary(values, digits: int = 4) -> dict:
    """Median, min and max of repeated measurements (and the raw values)."""
    values = [float(v) for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "runs": []}
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def percentiles(samples_ms: list[float], target_ms: float, digits: int = 2) -> dict:
    """p50, p95 and max of latency samples, with the p95 target and p95 / target."""
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    p95 = pick(0.95)
    return {"p50_ms": round(pick(0.50), digits), "p95_ms": round(p95, digits),
            "n": len(ordered), "max_ms": round(ordered[-1], digits), "target_ms": target_ms,
            "ratio": round(p95 / target_ms, 3)}


def git_commit() -> str:
    """The checked-out commit, with "+dirty" when tracked files differ from it."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def row(section: str, figure: str, stats: dict | None, unit: str = "", target: str = "",
        met: bool | None = None, digits: int = 2) -> dict:
    """One line of the printed table."""
    return {"section": section, "figure": figure, "unit": unit, "target": target, "met": met,
            "median": None if not stats else stats.get("median"),
            "min": None if not stats else stats.get("min"),
            "max": None if not stats else stats.get("max"), "digits": digits}
