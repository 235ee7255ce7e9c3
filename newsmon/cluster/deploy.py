"""`newsmon cluster deploy` and `newsmon cluster status`: the project's egg is built by
scrapyd-client's `scrapyd-deploy --build-egg` (from the checkout's scrapy.cfg and setup.py,
so it carries the package data: the built-in configuration and the migrations) and uploaded
to every node with addversion.json; a node that refuses it keeps its previous version."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmon.cluster import ClusterConfig
from newsmon.cluster.scrapyd import NodeError, ScrapydClient


class DeployError(RuntimeError):
    """The egg could not be built."""


def project_dir(start: Path | None = None) -> Path:
    """The directory of the nearest scrapy.cfg from `start` (default: here) upwards."""
    start = (start or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        if (directory / "scrapy.cfg").is_file():
            return directory
    raise DeployError(f"no scrapy.cfg in {start} or above: run from the newsmon checkout "
                      "(or pass --project-dir)")


def build_egg(directory: Path, out: Path) -> Path:
    tool = shutil.which("scrapyd-deploy", path=str(Path(sys.executable).parent)) \
        or shutil.which("scrapyd-deploy")
    if tool is None:
        raise DeployError("scrapyd-deploy not found: pip install 'newsmon[cluster]'")
    egg = out / "newsmon.egg"
    done = subprocess.run([tool, "--build-egg", str(egg)], cwd=directory,
                          capture_output=True, text=True)
    if done.returncode != 0 or not egg.is_file():
        raise DeployError(f"scrapyd-deploy --build-egg failed: {done.stderr.strip()[-2000:]}")
    return egg


@dataclass
class DeployResult:
    version: str
    egg_bytes: int
    nodes: dict[str, str | None] = field(default_factory=dict)  # node -> error, None = ok

    @property
    def ok(self) -> bool:
        return all(error is None for error in self.nodes.values())


def deploy(config: ClusterConfig, version: str | None = None,
           directory: Path | None = None) -> DeployResult:
    version = version or str(int(time.time()))
    with tempfile.TemporaryDirectory(prefix="newsmon-egg-") as tmp:
        egg = build_egg(directory or project_dir(), Path(tmp)).read_bytes()
    result = DeployResult(version, len(egg))
    for node in config.nodes:
        try:
            ScrapydClient(node, config.timeout).addversion(config.project, version, egg)
            result.nodes[node.name] = None
        except NodeError as exc:
            result.nodes[node.name] = str(exc)
    return result


def status(config: ClusterConfig) -> list[dict[str, Any]]:
    """One row per node: up or the error, the latest deployed version, running and pending
    jobs, whether it runs the version most nodes run."""
    rows = []
    for node in config.nodes:
        client = ScrapydClient(node, config.timeout)
        row: dict[str, Any] = {"node": node.name, "url": node.url, "up": False, "error": None,
                               "version": None, "pending": None, "running": None,
                               "finished": None}
        try:
            health = client.daemonstatus()
            row.update(up=True, pending=health.get("pending"), running=health.get("running"),
                       finished=health.get("finished"))
            versions = client.listversions(config.project)
            row["version"] = versions[-1] if versions else None
            jobs = client.listjobs(config.project)
            row["jobs"] = [{"id": j["id"], "spider": j.get("spider"), "state": state,
                            "start_time": j.get("start_time")}
                           for state in ("running", "pending") for j in jobs[state]]
        except NodeError as exc:
            row["error"] = str(exc)
        rows.append(row)
    versions = [r["version"] for r in rows if r["version"]]
    newest = max(versions, key=_version_key) if versions else None
    for row in rows:
        row["current"] = row["up"] and row["version"] == newest
    return rows


def _version_key(version: str):
    # Versions this command makes are Unix times; others compare as text after them.
    return (0, int(version), "") if version.isdigit() else (1, 0, version)
