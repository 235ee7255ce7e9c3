"""Crawling on several machines: Scrapyd nodes run the crawls, one planner (the scheduler
daemon holding a PostgreSQL advisory lock) decides which node crawls which site, and the
PostgreSQL archive they all write to keeps the per-site crawl lease. Configured by
`[cluster]` in newsmon.toml; without nodes everything runs locally."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from crawler.config import ConfigError, section
from crawler.sites import default_site
from newsmon.cluster.scrapyd import Node

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class ClusterConfig:
    nodes: list[Node]
    project: str = "newsmon"
    spider: str = "site"
    max_jobs: int = 2  # concurrent crawl jobs per node
    sites: list[str] = field(default_factory=list)
    every: float = 1800.0  # seconds from the start of one crawl of a site to the next
    interval: float = 30.0  # seconds between two planner ticks
    recheck: str = "due"
    base_urls: dict[str, str] = field(default_factory=dict)  # site -> fetch base
    db: str | None = None  # archive URL as the nodes reach it (default: the planner's)
    timeout: float = 10.0  # a node answering slower is down for this tick
    settings: dict[str, str] = field(default_factory=dict)  # extra Scrapy settings per job

    @property
    def enabled(self) -> bool:
        return bool(self.nodes)


def _expand(value: Any, env) -> Any:
    # ${VAR} from the environment, so node passwords stay out of the file.
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        if match.group(1) not in env:
            raise ConfigError(f"[cluster]: environment variable {match.group(1)} is not set")
        return env[match.group(1)]

    return _VARIABLE.sub(one, value)


def _node(entry: Any, env) -> Node:
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict) or not entry.get("url"):
        raise ConfigError(f"[cluster].nodes: each node needs a url, got {entry!r}")
    url = _expand(entry["url"], env)
    name = entry.get("name") or url.split("://", 1)[-1].rstrip("/")
    return Node(name=name, url=url, username=_expand(entry.get("username"), env),
                password=_expand(entry.get("password"), env))


def load_cluster(values: dict[str, Any] | None = None, env=None) -> ClusterConfig:
    """[cluster] of the layered configuration (or `values`), checked."""
    values = section("cluster") if values is None else values
    env = os.environ if env is None else env
    nodes = [_node(entry, env) for entry in values.get("nodes") or []]
    if len({n.name for n in nodes}) != len(nodes):
        raise ConfigError("[cluster].nodes: two nodes have the same name")
    try:
        config = ClusterConfig(
            nodes=nodes,
            project=str(values.get("project", "newsmon")),
            spider=str(values.get("spider", "site")),
            max_jobs=int(values.get("max_jobs", 2)),
            # [crawl].site is needed only when there is a cluster to plan for.
            sites=list(values.get("sites") or ([default_site()] if nodes else [])),
            every=float(values.get("every", 1800)),
            interval=float(values.get("interval", 30)),
            recheck=str(values.get("recheck", "due")),
            base_urls=dict(values.get("base_urls") or {}),
            db=values.get("db") or None,
            timeout=float(values.get("timeout", 10)),
            settings={k: str(v) for k, v in (values.get("settings") or {}).items()},
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[cluster]: {exc}") from None
    if config.max_jobs < 1 or config.interval <= 0 or config.every < 0:
        raise ConfigError("[cluster]: max_jobs must be >= 1, interval > 0, every >= 0")
    return config
