"""`removed` and `restored` on the replica: articles that start answering 410 and 404 make one
`removed` each (written with the fetch that saw it, delivered at the crawl's exit), an article
still gone makes no second one, and one that comes back makes `restored`."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from storage import Archive
from storage.outbox import list_events
from storage.query import list_fetch_events
from tests.crawl.helpers import FAST, newsmon
from tests.notify.receivers import Webhook

pytestmark = pytest.mark.slow


def test_removed_then_restored_on_the_replica(replica, sqlite_url, tmp_path):
    receiver = Webhook()
    (tmp_path / "newsmon.toml").write_text(
        f'[[notify]]\nname = "status"\nurl = "{receiver.url}/status"\n'
        'events = ["removed", "restored"]\n'
        f'[[notify]]\nname = "titles"\nurl = "{receiver.url}/titles"\n'
        'events = ["title_changed"]\n')
    env = {"NEWSMON_CONFIG_DIR": str(tmp_path)}

    def crawl():
        proc = newsmon("crawl", "--base-url", replica.base_url, "--db", sqlite_url,
                       "--recheck", "all", *FAST, env=env, timeout=180)
        assert proc.returncode == 0, proc.stderr
        got = [(r["path"], r["json"]["type"], r["json"]["article"]["site_id"])
               for r in receiver.received]
        receiver.received.clear()
        return sorted(got)

    site = replica.site
    gone_410 = site.case("no_author").article_id
    gone_404 = site.case("seed").article_id
    try:
        assert crawl() == []
        site.remove_article(gone_410, status=410)
        site.remove_article(gone_404, status=404)
        assert crawl() == sorted([("/status", "removed", gone_410),
                                  ("/status", "removed", gone_404)])
        site.restore_article(gone_404)
        assert crawl() == [("/status", "restored", gone_404)]  # the 410 one: still gone
        assert crawl() == []
    finally:
        receiver.close()

    with Archive.open(sqlite_url) as archive:
        with Session(archive.engine) as s:
            events = list_events(s, types=["removed", "restored"])
        fetches = {f["id"]: f for f in list_fetch_events(archive, limit=1000)}
    assert [e["type"] for e in events] == ["removed", "removed", "restored"]
    for event in events:
        # Keyed by the fetch that changed the status, which is the 404/410 (or the 200).
        article, fetch_id, kind = event["key"].split(":")
        fetch = fetches[int(fetch_id.removeprefix("f"))]
        assert article == f"a{fetch['article_id']}" == f"a{event['article']['id']}"
        assert fetch["outcome"] == "gone" if kind == "removed" else fetch["outcome"] in (
            "unchanged", "new_version", "not_modified")
        assert event["payload"]["http_status"] == fetch["http_status"]
        assert event["version"] == 1 and event["article"]["title"]  # the last version known
    removed = {e["article"]["site_id"]: e["payload"]["http_status"] for e in events
               if e["type"] == "removed"}
    assert removed == {gone_410: 410, gone_404: 404}
