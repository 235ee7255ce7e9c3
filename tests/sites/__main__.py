"""`python -m tests.sites wp|plain [--port N]`: serve a test site by hand until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import threading

from . import SiteServer, plain_site, wp_site


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.sites", description=__doc__)
    ap.add_argument("site", choices=("wp", "plain"))
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    args = ap.parse_args(argv)
    site = wp_site() if args.site == "wp" else plain_site()
    with SiteServer(site, args.port) as server, contextlib.suppress(KeyboardInterrupt):
        print(server.base_url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
