"""`newsmon serve`: a read-only web interface, Atom feeds and a JSON API over the archive.

Needs the `web` extra (fastapi, uvicorn, jinja2). Pages, feeds and API only format what
storage.query returns, as the CLI does; no SQL here. Modules: app (the application, security
headers, errors), db (the read-only engine), context (shared state, diff cache, lookups),
present (times, summaries, safe links), pages, feeds, api. Templates and the stylesheet are
package data (templates/, static/); there is no JavaScript.
"""

from newsmon.web.app import create_app
from newsmon.web.db import ArchiveUnavailable

__all__ = ["ArchiveUnavailable", "create_app"]
