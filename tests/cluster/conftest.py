"""Two real Scrapyd nodes on loopback (own ports and work directories), three replica sites,
a PostgreSQL archive of the test's own and a configuration directory that names them all,
read by the nodes' crawls and the planner alike."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler import config as crawler_config
from tests.pg import temporary_database, unavailable_reason
from tests.replica import ReplicaServer, ReplicaSite

REPO = Path(__file__).resolve().parents[2]
SITES = ("s1", "s2", "s3")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ScrapydNode:
    name: str
    workdir: Path
    env: dict
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> ScrapydNode:
        self.port = self.port or free_port()
        (self.workdir / "scrapyd.conf").write_text(
            "[scrapyd]\nbind_address = 127.0.0.1\n"
            f"http_port = {self.port}\npoll_interval = 0.2\nmax_proc = 4\n"
            "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\n")
        log = open(self.workdir / "scrapyd.out", "ab")  # noqa: SIM115 - closed with the process
        # Its own session: kill() takes the node and the crawls it started, like a lost machine.
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "scrapyd")],
                                        cwd=self.workdir, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        for _ in range(300):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.url + "daemonstatus.json", timeout=1).read()
                return self
            if self.process.poll() is not None:
                raise RuntimeError((self.workdir / "scrapyd.out").read_text())
            time.sleep(0.1)
        raise RuntimeError(f"scrapyd {self.name} did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _profile(name: str) -> str:
    text = (REPO / "config" / "sites" / "rp.toml").read_text(encoding="utf-8")
    return text.replace('name = "rp"', f'name = "{name}"', 1)


@pytest.fixture
def cluster_env(tmp_path, monkeypatch):
    """(config dir, archive URL, replicas by site, nodes): nodes not started yet."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    replicas = {site: ReplicaServer(ReplicaSite.generated(4, seed=11 + i)).start()
                for i, site in enumerate(SITES)}
    conf = tmp_path / "conf"
    (conf / "sites").mkdir(parents=True)
    for site in SITES:
        (conf / "sites" / f"{site}.toml").write_text(_profile(site), encoding="utf-8")
    env = {**os.environ, "NEWSMON_CONFIG_DIR": str(conf), "HOME": str(tmp_path / "home"),
           "XDG_CONFIG_HOME": str(tmp_path / "home" / "config")}
    env.pop("NEWSMON_DB", None)
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        nodes.append(ScrapydNode(name, tmp_path / name, env))
    try:
        with temporary_database("newsmon_cluster") as db_url:
            for key in ("NEWSMON_CONFIG_DIR", "HOME", "XDG_CONFIG_HOME"):
                monkeypatch.setenv(key, env[key])
            monkeypatch.delenv("NEWSMON_DB", raising=False)
            for node in nodes:
                node.start()
            nodes_toml = ", ".join(f'{{ name = "{n.name}", url = "{n.url}" }}' for n in nodes)
            bases = ", ".join(f'{s} = "{r.base_url}"' for s, r in replicas.items())
            (conf / "newsmon.toml").write_text(
                f'[crawl]\nsite = "s1"\n\n[cluster]\nnodes = [{nodes_toml}]\n'
                f"sites = {list(SITES)!r}\nmax_jobs = 2\nevery = 3600\ninterval = 1\n"
                f'recheck = "all"\nbase_urls = {{ {bases} }}\n'
                'settings = { DOWNLOAD_DELAY = "0", AUTOTHROTTLE_ENABLED = "0" }\n'
                .replace("'", '"'), encoding="utf-8")
            crawler_config.reload()
            yield conf, db_url, replicas, nodes
    finally:
        for node in nodes:
            node.kill()
        for replica in replicas.values():
            replica.stop()
        crawler_config.reload()
