"""Shared by the re-parse tests: profiles with a deliberately broken selector or a dated
variant for the replica's redesign, config folders holding them, and archives built from
replica pages through the crawl's own write path (Archive.record_fetch)."""

from __future__ import annotations

import copy
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.parsers import build_profile, parse_article
from storage import Archive
from tests.crawl.helpers import REPO
from tests.replica import ReplicaSite
from tests.replica.render import RENAMED_IDS, _renamed

RP = "https://www.rp.pl"
CONTENT_TYPE = "text/html; charset=utf-8"
# A typo in the caption's selector: every caption is lost (the image stays).
BROKEN_CAPTION = {"image_caption": "p.article--media--leed"}
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def shipped_profile() -> dict:
    with (REPO / "config" / "sites" / "rp.toml").open("rb") as fh:
        return tomllib.load(fh)


def profile(selectors: dict | None = None):
    raw = copy.deepcopy(shipped_profile())
    raw["selectors"].update(selectors or {})
    return build_profile("rp", raw)


def toml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_dir(root: Path, selectors: dict | None = None, variants: list | None = None) -> Path:
    """A project configuration folder ($NEWSMON_CONFIG_DIR, or the working directory) whose
    sites/rp.toml overrides the shipped profile's selectors and adds dated variants
    [(since, selectors), ...]."""
    lines = ["[selectors]"] + [f"{k} = {toml_value(v)}" for k, v in (selectors or {}).items()]
    for since, chosen in variants or []:
        lines += ["", "[[variants]]", f"since = {since.isoformat()}", "[variants.selectors]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in chosen.items()]
    (root / "sites").mkdir(parents=True, exist_ok=True)
    (root / "sites" / "rp.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Also a project folder when it is the working directory (layers need ./newsmon.toml).
    (root / "newsmon.toml").write_text("", encoding="utf-8")
    return root


# -- the redesign's selectors, as someone reading the new pages would write them -----------

_TOKEN = re.compile(r"('[^']*'|\"[^\"]*\")|([.#])([A-Za-z_][\w-]*)")
_CLASS_PART = re.compile(r"\[class\*='([^']+)'\]")
_CLASSES = re.compile(r'class="([^"]*)"')


def _renamed_selector(selector: str, classes: set[str]) -> list[str]:
    def sub(m: re.Match) -> str:
        if m.group(1):
            return m.group(1)  # a quoted attribute value: not a class
        kind, name = m.group(2), m.group(3)
        if kind == ".":
            return "." + _renamed(name)
        return "#" + _renamed(name) if name in RENAMED_IDS else m.group(0)

    out = [_TOKEN.sub(sub, selector)]
    part = _CLASS_PART.fullmatch(selector.strip())
    if part:  # "[class*='quote']": the renamed classes that held the part
        out += ["." + _renamed(c) for c in sorted(classes) if part.group(1) in c]
    return out


def redesign_selectors(site: ReplicaSite) -> dict:
    """The shipped selectors with every class and known id renamed as the replica's redesign
    renames them (the class-part selectors listed as the renamed classes they matched)."""
    redesigned, site.redesign = site.redesign, False  # the classes of the old template
    try:
        classes = {c for a in site.live_articles() for attr in _CLASSES.findall(site.render(a))
                   for c in attr.split()}
    finally:
        site.redesign = redesigned
    out = {}
    for key, value in shipped_profile()["selectors"].items():
        values = [value] if isinstance(value, str) else value
        renamed = [r for v in values for r in _renamed_selector(v, classes)]
        out[key] = renamed[0] if isinstance(value, str) and len(renamed) == 1 else renamed
    return out


# -- archives built without HTTP ------------------------------------------------------------


def store(archive: Archive, site: ReplicaSite, article_id: str, parser, when: datetime):
    """Fetch-and-record one replica page as a crawl would (run-less); the outcome."""
    article = site.article(article_id)
    url = article.url(RP)
    html = site.render(article, RP).encode("utf-8")
    record = parse_article(html, url=url, site=parser).to_dict()
    record["parser_fingerprint"] = parser.fingerprint
    record["article_id"] = article_id
    return archive.record_fetch(None, "rp", article_id, url, record, html,
                                content_type=CONTENT_TYPE, fetched_at=when)


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def crawl_with(base_url: str, db_url: str, *args: str, config: Path | None = None,
               timeout: float = 180):
    """`newsmon crawl` (as tests/crawl/helpers.crawl) with a configuration folder."""
    import json

    from tests.crawl.helpers import FAST, CrawlResult, newsmon

    env = {"NEWSMON_CONFIG_DIR": str(config)} if config else None
    proc = newsmon("crawl", "--base-url", base_url, "--db", db_url, "--json", *FAST, *args,
                   env=env, timeout=timeout)
    run = next((json.loads(line) for line in proc.stdout.splitlines()
                if line.startswith("{")), None)
    return CrawlResult(proc.returncode, run, proc.stdout, proc.stderr)


def reparse_cli(db_url: str, *args: str, config: Path | None = None, timeout: float = 300):
    """`newsmon reparse --json`: (process, report)."""
    import json

    from tests.crawl.helpers import newsmon

    env = {"NEWSMON_CONFIG_DIR": str(config)} if config else None
    proc = newsmon("reparse", "--db", db_url, "--json", *args, env=env, timeout=timeout)
    report = json.loads(proc.stdout) if proc.stdout.startswith("{") else None
    return proc, report
