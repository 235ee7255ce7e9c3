"""`newsmon info`: the archive, the configuration layers, and every setting with the layer it
came from."""

from __future__ import annotations

import json
import os
from typing import Any

from newsmon.cli import EXIT_OK
from newsmon.cli.args import add_command

# Profile tables worth showing: what the crawl fetches and how often (the selectors and text
# patterns are the parser's business and would drown the rest).
PROFILE_TABLES = ("site", "discovery", "revisit")


def register(sub) -> None:
    add_command(sub, "info", cmd_info, db=True, json="JSON output",
                help="print the archive, the configuration layers and each setting's source",
                description="Show where the archive is, which configuration files and variables "
                            "are in use (built-in < user < project < environment < command "
                            "line), and every setting with the layer it came from.")


def cmd_info(args) -> int:
    info = gather(args.db)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print_info(info)
    return EXIT_OK


def gather(db: str | None) -> dict[str, Any]:
    from crawler.config import (
        config_layers,
        env_overrides,
        resolve_config,
        resolve_db_url,
        resolve_site_profile,
    )

    db_url, db_source = resolve_db_url(db)
    config = resolve_config()
    site = (config.values.get("crawl") or {}).get("site") or None
    # No default site: without [crawl].site there is no profile to show.
    profile = resolve_site_profile(site) if site else None
    layers = [{"layer": layer.name,
               "directory": str(layer.directory) if layer.directory is not None else None,
               "chosen_by": layer.why,
               "files": layer.files()} for layer in config_layers()]
    variables = [variable for variable, _, _ in env_overrides(os.environ)]
    layers.append({"layer": "environment", "variables": variables})
    settings = {key: {"value": _leaf(config.values, key), "source": source}
                for key, source in sorted(config.sources.items())}
    profile_settings = {} if profile is None else {
        key: {"value": _leaf(profile.values, key), "source": source}
        for key, source in sorted(profile.sources.items())
        if key.split(".", 1)[0] in PROFILE_TABLES}
    return {
        "archive": db_url,
        "archive_source": db_source,
        "layers": layers,
        "settings": settings,
        "site": site,
        "base_url": (profile.values.get("site") or {}).get("base_url") if profile else None,
        "site_profile_files": profile.files if profile else [],
        "site_profile": profile_settings,
    }


def _leaf(values: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        values = values[part]
    return values


def print_info(info: dict[str, Any]) -> None:
    print(f"archive   {info['archive']}")
    print(f"          from: {info['archive_source']}")
    print("layers    (each overrides only what it sets; later ones win)")
    for layer in info["layers"]:
        if layer["layer"] == "environment":
            names = ", ".join(layer["variables"]) or "none (NEWSMON_<SECTION>__<KEY>)"
            print(f"  {'environment':12} {names}")
        elif layer["directory"] is None:
            print(f"  {layer['layer']:12} not in use ({layer['chosen_by']})")
        else:
            files = ", ".join(layer["files"]) or "no files"
            print(f"  {layer['layer']:12} {layer['directory']} ({layer['chosen_by']}): {files}")
    if info["site"] is None:
        print("site      none configured (set [crawl].site)")
    else:
        print(f"site      {info['site']} {info['base_url']}")
        print(f"          profile: {', '.join(info['site_profile_files'])}")
    rows = list(info["settings"].items())
    rows += [(f"sites/{info['site']}: {key}", entry) for key, entry in info["site_profile"].items()]
    # Source before value: long values (arrays, patterns) then cannot push it out of line.
    width = max(len(key) for key, _ in rows)
    source_width = max(len(entry["source"]) for _, entry in rows)
    print()
    print(f"{'setting':{width}}  {'source':{source_width}}  value")
    for key, entry in rows:
        print(f"{key:{width}}  {entry['source']:{source_width}}  {_shown(entry['value'])}")


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
