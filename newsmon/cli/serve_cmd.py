"""`newsmon serve`: the read-only web interface, feeds and JSON API (newsmon/web/)."""

from __future__ import annotations

import argparse
import json
import os
import socket

from newsmon.cli import EXIT_BAD_INPUT, CommandError
from newsmon.cli.crawl_cmd import add_db_option

APP_FACTORY = "newsmon.web.app:app_from_environment"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"not a port number: {value}")
    return value


def register(sub) -> None:
    p = sub.add_parser(
        "serve", help="web interface, Atom feeds and JSON API over the archive (read-only)",
        description="Serve the archive read-only over HTTP: changes, articles, diffs, search, "
                    "runs, Atom feeds and /api/. Binds to 127.0.0.1 unless --host says "
                    "otherwise; put it behind a reverse proxy with authentication to share "
                    "it. Needs the 'web' extra.")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    p.add_argument("--public-url", metavar="URL",
                   help="absolute base of the links in feeds (e.g. https://news.example.org"
                        "/newsmon when behind a proxy); default: the address requested")
    p.add_argument("--workers", type=_workers, default=None,
                   help="server processes (default: one per CPU core, as pages are rendered in "
                        "Python and one process uses one core)")
    p.set_defaults(handler=cmd_serve)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of workers: {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"workers must be between 1 and 64, got {value}")
    return value


def cmd_serve(args) -> int:
    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise CommandError(f"the web interface needs the 'web' extra ({exc.name} is missing): "
                           "pip install 'newsmon[web]'", EXIT_BAD_INPUT) from None
    from sqlalchemy.engine import make_url

    from crawler.config import resolve_db_url
    from newsmon.web import ArchiveUnavailable
    from newsmon.web.app import APP_SETTINGS
    from newsmon.web.db import check_archive

    db_url, _ = resolve_db_url(args.db)
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        raise CommandError(f"--public-url must be an http(s) URL, got {args.public_url!r}",
                           EXIT_BAD_INPUT)
    workers = args.workers or max(1, min(os.cpu_count() or 1, 8))
    try:
        check_archive(db_url)
    except ArchiveUnavailable as exc:
        raise CommandError(str(exc), EXIT_BAD_INPUT) from None
    shown = make_url(db_url).render_as_string(hide_password=True)
    print(f"newsmon serve: {shown} (read-only) on http://{args.host}:{args.port}/"
          f" ({workers} worker{'s' if workers > 1 else ''})", flush=True)
    # uvicorn imports the application by name in each worker process, and each opens the
    # archive itself; the settings travel in the environment.
    os.environ[APP_SETTINGS] = json.dumps({"db": db_url, "public_url": args.public_url})
    options = {"factory": True, "host": args.host, "port": args.port, "log_level": "warning",
               "access_log": False}
    if workers == 1:
        uvicorn.run(APP_FACTORY, **options)
        return 0
    from uvicorn.supervisors import Multiprocess

    listener = _tcp_listener(args.host, args.port)
    Multiprocess(uvicorn.Config(APP_FACTORY, workers=workers, **options),
                 sockets=[listener]).run()
    return 0


def _tcp_listener(host: str, port: int) -> socket.socket:
    """The socket the workers accept on, bound here rather than by uvicorn: its own binding
    leaves the protocol number 0, so asyncio does not switch Nagle's algorithm off on the
    accepted connections, and every keep-alive request after the first waited ~40 ms for
    the client's delayed ACK (uvicorn issue #3149)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}",
                           EXIT_BAD_INPUT) from None
    sock.set_inheritable(True)
    return sock
