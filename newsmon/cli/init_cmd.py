"""`newsmon init [DIR]`: starting files to tune settings without touching the installed
package — a commented newsmon.toml and, on request, copies of shipped site profiles."""

from __future__ import annotations

from pathlib import Path

from newsmon.cli import EXIT_OK
from newsmon.cli.args import add_command


def register(sub) -> None:
    init = add_command(
        sub, "init", cmd_init, help="write a commented newsmon.toml (and site profiles) to edit",
        description="Write DIR/newsmon.toml with every built-in setting commented out, and with "
                    "--site NAME a copy of the shipped profile as DIR/sites/NAME.toml. Existing "
                    "files are kept unless --force.")
    init.add_argument("directory", nargs="?", metavar="DIR", type=Path,
                      help="where to write (default: the user config directory, "
                           "$XDG_CONFIG_HOME/newsmon or ~/.config/newsmon)")
    init.add_argument("--site", action="append", default=[], metavar="NAME",
                      help="also copy the shipped site profile NAME (repeatable)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")


def cmd_init(args) -> int:
    from crawler.config import (
        CONFIG_FILE,
        starter_config_text,
        starter_profile_text,
        user_config_dir,
    )

    directory = (args.directory or user_config_dir()).expanduser().resolve()
    # Every text first: an unknown profile name writes nothing.
    files = {directory / CONFIG_FILE: starter_config_text()}
    for name in args.site:
        files[directory / "sites" / f"{name}.toml"] = starter_profile_text(name)
    for path, text in files.items():
        if path.exists() and not args.force:
            print(f"kept {path} (it exists; --force overwrites it)")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    print(_layer_note(directory, user_config_dir()))
    return EXIT_OK


def _layer_note(directory: Path, user_dir: Path) -> str:
    if directory == user_dir.expanduser().resolve():
        return "the user layer: every newsmon command of this user reads it"
    if directory == Path.cwd().resolve():
        return "a project directory: newsmon commands run here read it"
    return (f"a project directory: read by newsmon commands run in {directory} "
            f"or with NEWSMON_CONFIG_DIR={directory}")
