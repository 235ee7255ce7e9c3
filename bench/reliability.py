"""Every fault scenario of tests/reliability against the replica, as one table.

    python -m bench.reliability [--only TEXT] [--json FILE]

Columns: runs (crawls in the scenario), completed (runs that ended "completed"), versions
lost (archived versions missing or altered afterwards: must be 0), bogus versions (versions
created from unchanged content: must be 0), errors recorded (errors + suspect + parse
failures counted by the runs), kinds (errors by kind)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.reliability.scenarios import SCENARIOS, build_baseline, run_scenario
from tests.replica import ReplicaServer, ReplicaSite

COLUMNS = ("scenario", "runs", "completed", "versions lost", "bogus versions",
           "errors recorded", "kinds")


def run(only: str | None = None) -> list[dict]:
    rows = []
    with ReplicaServer(ReplicaSite.default()) as server, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        baseline = work / "baseline.db"
        build_baseline(server, baseline)
        for index, scenario in enumerate(SCENARIOS):
            if only and only.lower() not in scenario.name.lower():
                continue
            scenario_dir = work / f"s{index}"
            scenario_dir.mkdir()
            outcome = run_scenario(server, baseline, scenario_dir, scenario)
            suspect = sum(r["suspect"] for r in outcome.runs)
            kinds = dict(outcome.errors_by_kind)
            if suspect:
                kinds["suspect"] = suspect
            rows.append({
                "scenario": scenario.name, "runs": len(outcome.results),
                "completed": outcome.completed, "versions lost": outcome.versions_lost,
                "bogus versions": outcome.bogus_versions, "errors recorded": outcome.errors,
                "kinds": ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "-",
            })
            print(f"  {scenario.name}: done", file=sys.stderr)
    return rows


def render(rows: list[dict]) -> str:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
    line = "| " + " | ".join(c.ljust(widths[c]) for c in COLUMNS) + " |"
    rule = "|" + "|".join("-" * (widths[c] + 2) for c in COLUMNS) + "|"
    body = ["| " + " | ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join([line, rule, *body])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run the scenarios whose name contains this text")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    rows = run(args.only)
    print(render(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=2))
    bad = [r for r in rows if r["versions lost"] or r["bogus versions"]
           or r["completed"] != r["runs"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
