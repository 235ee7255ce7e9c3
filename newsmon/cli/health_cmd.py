"""`newsmon health`: field coverage of the last runs; exit 1 when the latest is degraded."""

from __future__ import annotations

from newsmon.cli import EXIT_FAILURE, EXIT_OK
from newsmon.cli.args import add_command


def register(sub) -> None:
    p = add_command(
        sub, "health", cmd_health, db=True, json="JSON output",
        help="per-field coverage of recent runs (exit 1 when degraded)",
        description="Share of parsed pages that yielded each key field in the last runs. A "
                    "run is degraded when a share drops below [health].min_coverage of the "
                    "configuration (`newsmon info`), which is how a site redesign shows up.")
    p.add_argument("--runs", type=int, default=10, metavar="N", help="how many runs to show")
    p.add_argument("--site", metavar="NAME",
                   help="only this site's runs (the exit status then judges its latest run)")


def cmd_health(args) -> int:
    from crawler.config import resolve_db_url
    from crawler.run_status import COVERAGE_FIELDS
    from newsmon.cli.output import print_json, print_table
    from storage import Archive
    from storage.query import list_runs

    db_url, _ = resolve_db_url(args.db)
    with Archive.open(db_url) as archive:
        recent = list_runs(archive, limit=args.runs * 3, site=args.site)
    runs = [r for r in recent if r["status"] not in ("skipped", "running")][: args.runs]
    rows = []
    for run in runs:
        coverage = run.get("coverage") or {}
        row = {"id": run["id"], "site": run.get("site"), "started_at": run["started_at"],
               "status": run["status"],
               "degraded": bool(run.get("degraded")), "pages": run.get("pages_fetched", 0)}
        row.update({f: coverage.get(f) for f in COVERAGE_FIELDS})
        rows.append(row)
    latest_degraded = bool(rows and rows[0]["degraded"])
    if args.json:
        print_json({"degraded": latest_degraded, "runs": rows})
    else:
        print_table(rows, ["id", "site", "started_at", "status", "pages", *COVERAGE_FIELDS,
                           "degraded"], title="field coverage (share of parsed pages)")
        if latest_degraded:
            print("latest run is DEGRADED: check the parser against the site's markup")
    return EXIT_FAILURE if latest_degraded else EXIT_OK
