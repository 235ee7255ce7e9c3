"""`newsmon db upgrade|current|check`: archive schema and consistency."""

from __future__ import annotations

import json

from newsmon.cli import EXIT_FAILURE, EXIT_OK, verbosity
from newsmon.cli.args import add_command


def register(sub) -> None:
    db = sub.add_parser("db", help="archive schema and consistency",
                        description="Manage the archive database.")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION")
    actions.required = True

    add_command(actions, "upgrade", cmd_upgrade, db=True,
                help="create the archive or upgrade it to the latest schema revision (never "
                     "recreates it)")
    add_command(actions, "check", cmd_check, db=True, json="JSON output",
                help="consistency check: exit 1 when a problem is found",
                description="Every article's current version exists, version numbers are "
                            "contiguous, no duplicate content hash per article, every version's "
                            "raw page exists; on SQLite also PRAGMA integrity_check.")
    add_command(actions, "current", cmd_current, db=True,
                help="print the archive's schema revision")


def cmd_upgrade(args) -> int:
    from crawler.config import resolve_db_url
    from storage.migrate import current_revision, upgrade

    db_url, _ = resolve_db_url(args.db)
    before = current_revision(db_url)
    shown = _BackfillProgress(quiet=verbosity(args) < 0)
    try:
        upgrade(db_url, progress=shown)
    finally:
        shown.close()
    after = current_revision(db_url)
    print(f"archive {db_url}: {before or 'empty'} -> {after}")
    return EXIT_OK


class _BackfillProgress:
    """A back-fill's rows so far on stderr (newsmon/progress.py), one display per back-fill."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.reporter = None

    def __call__(self, label: str, done: int, total: int | None) -> None:
        from newsmon.progress import Reporter

        if self.quiet:
            return
        if self.reporter is None or self.reporter.title != f"back-fill {label}":
            self.close()
            self.reporter = Reporter(f"back-fill {label}", unit="versions")
            self.reporter.start()
        self.reporter.update(done, total)

    def close(self) -> None:
        if self.reporter is not None:
            self.reporter.stop()
            self.reporter = None


def cmd_current(args) -> int:
    from crawler.config import resolve_db_url
    from storage.migrate import current_revision

    db_url, _ = resolve_db_url(args.db)
    print(current_revision(db_url) or "empty")
    return EXIT_OK


def cmd_check(args) -> int:
    from crawler.config import resolve_db_url
    from storage import Archive

    db_url, _ = resolve_db_url(args.db)
    with Archive.open(db_url) as archive:
        problems = archive.check()
    if args.json:
        print(json.dumps({"ok": not problems, "problems": problems}, ensure_ascii=False))
    elif problems:
        for problem in problems:
            print(problem)
    else:
        print("ok")
    return EXIT_FAILURE if problems else EXIT_OK
