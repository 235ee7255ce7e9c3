"""A small client of Scrapyd's HTTP JSON API (https://scrapyd.readthedocs.io/en/latest/api.html):
one node, the calls the planner and `newsmon cluster` make. Standard library only, so the
planner needs nothing beyond newsmon itself."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

# A node that does not answer within this is taken as down for this tick.
DEFAULT_TIMEOUT = 10.0


class NodeError(RuntimeError):
    """The node did not answer, or answered with an error."""


@dataclass(frozen=True)
class Node:
    name: str  # how runs and `cluster status` name the node
    url: str  # e.g. http://10.0.0.5:6800/
    username: str | None = None
    password: str | None = None

    def endpoint(self, action: str) -> str:
        return urllib.parse.urljoin(self.url.rstrip("/") + "/", action)


class ScrapydClient:
    def __init__(self, node: Node, timeout: float = DEFAULT_TIMEOUT):
        self.node = node
        self.timeout = timeout

    def _call(self, action: str, query: dict[str, Any] | None = None,
              data: bytes | None = None, content_type: str | None = None) -> dict[str, Any]:
        url = self.node.endpoint(action)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, data=data)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.node.username:
            token = f"{self.node.username}:{self.node.password or ''}".encode()
            request.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise NodeError(f"{self.node.name}: {action} answered HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:  # refused, timed out, reset, not JSON
            raise NodeError(f"{self.node.name}: {action} failed: {exc}") from exc
        if body.get("status") != "ok":
            raise NodeError(f"{self.node.name}: {action}: {body.get('message', body)}")
        return body

    def _post(self, action: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
        data = urllib.parse.urlencode(fields).encode()
        return self._call(action, data=data,
                          content_type="application/x-www-form-urlencoded")

    def daemonstatus(self) -> dict[str, Any]:
        return self._call("daemonstatus.json")

    def listversions(self, project: str) -> list[str]:
        return self._call("listversions.json", {"project": project})["versions"]

    def listjobs(self, project: str) -> dict[str, list[dict[str, Any]]]:
        """{"pending": [...], "running": [...], "finished": [...]}, each job with its "id"."""
        body = self._call("listjobs.json", {"project": project})
        return {state: body.get(state, []) for state in ("pending", "running", "finished")}

    def schedule(self, project: str, spider: str, args: dict[str, str],
                 settings: dict[str, str]) -> str:
        """Start a job; returns its id."""
        fields = [("project", project), ("spider", spider)]
        fields += [(name, value) for name, value in args.items()]
        fields += [("setting", f"{name}={value}") for name, value in settings.items()]
        return self._post("schedule.json", fields)["jobid"]

    def cancel(self, project: str, job: str) -> None:
        self._post("cancel.json", [("project", project), ("job", job)])

    def addversion(self, project: str, version: str, egg: bytes) -> dict[str, Any]:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (("project", project), ("version", version)):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{value}\r\n".encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; '
                     f'filename="project.egg"\r\nContent-Type: application/octet-stream'
                     f"\r\n\r\n".encode() + egg + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self._call("addversion.json", data=b"".join(parts),
                          content_type=f"multipart/form-data; boundary={boundary}")
