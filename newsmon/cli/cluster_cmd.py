"""`newsmon cluster deploy|status`: the Scrapyd nodes of [cluster] (newsmon/cluster/)."""

from __future__ import annotations

from pathlib import Path

from newsmon.cli import EXIT_FAILURE, EXIT_OK
from newsmon.cli.args import add_command


def register(sub) -> None:
    cluster = sub.add_parser(
        "cluster", help="Scrapyd nodes: deploy the crawler, show their state",
        description="Crawl on several machines: the nodes listed in [cluster] of the "
                    "configuration run the crawls the scheduler daemon plans (README "
                    "\"Running on several machines\").")
    actions = cluster.add_subparsers(dest="cluster_command", metavar="ACTION")
    actions.required = True
    deploy = add_command(
        actions, "deploy", cmd_deploy, json="JSON output",
        help="build the project's egg (scrapyd-deploy) and upload it to every node",
        description="Exit 1 when a node refused the upload: it keeps its previous version.")
    deploy.add_argument("--version", help="version name (default: the Unix time)")
    deploy.add_argument("--project-dir", type=Path, metavar="DIR",
                        help="the checkout with scrapy.cfg (default: nearest from here)")
    add_command(actions, "status", cmd_status, json="JSON output",
                help="each node's health, deployed version and jobs (exit 1 when a node is "
                     "down or behind)")


def _config():
    from newsmon.cli import CommandError
    from newsmon.cluster import load_cluster

    config = load_cluster()
    if not config.enabled:
        raise CommandError("no nodes in [cluster] of the configuration (`newsmon info`)")
    return config


def cmd_deploy(args) -> int:
    from newsmon.cli import CommandError
    from newsmon.cli.output import print_json, print_table
    from newsmon.cluster.deploy import DeployError, deploy

    try:
        result = deploy(_config(), args.version, args.project_dir)
    except DeployError as exc:
        raise CommandError(str(exc)) from None
    rows = [{"node": node, "result": error or "deployed"} for node, error in
            result.nodes.items()]
    if args.json:
        print_json({"version": result.version, "egg_bytes": result.egg_bytes, "nodes": rows})
    else:
        print_table(rows, ["node", "result"],
                    title=f"version {result.version} ({result.egg_bytes:,} bytes)")
    return EXIT_OK if result.ok else EXIT_FAILURE


def cmd_status(args) -> int:
    from newsmon.cli.output import print_json, print_table
    from newsmon.cluster.deploy import status

    rows = status(_config())
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            row["state"] = row["error"] or ("up" if row["current"] else "up, older version")
        print_table(rows, ["node", "state", "version", "running", "pending", "finished"],
                    title="Scrapyd nodes")
        for row in rows:
            for job in row.get("jobs", []):
                print(f"{row['node']}: {job['state']} {job['spider']} {job['id']}")
    return EXIT_OK if all(row["current"] for row in rows) else EXIT_FAILURE
