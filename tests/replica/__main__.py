"""`python -m tests.replica --port 8000`: serve the replica by hand until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from .render import REAL_LINKS
from .server import ReplicaServer
from .site import ReplicaSite


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.replica", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000, help="0 = any free port")
    ap.add_argument("--articles", type=int, default=0,
                    help="serve a generated site of this many articles (default: default site)")
    ap.add_argument("--redesign", action="store_true", help="serve renamed CSS classes")
    ap.add_argument("--real-links", choices=REAL_LINKS, default=None,
                    help="keep the real site's https://www.rp.pl links as a mirror does: in the "
                         "pages' head (canonical, og:url, JSON-LD), or everywhere (also "
                         "listings, sitemaps, RSS); default: rewrite them to this server")
    args = ap.parse_args(argv)
    site = ReplicaSite.generated(args.articles) if args.articles else ReplicaSite.default()
    site.redesign = args.redesign
    with ReplicaServer(site, args.host, args.port, real_links=args.real_links) as server:
        print(server.base_url, flush=True)
        print(f"{len(site)} articles; listing {server.base_url}/dyplomacja; "
              f"seed {server.article_url('40671561')}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
