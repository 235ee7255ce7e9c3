"""Issue 13's acceptance scenario on the replica: a webhook subscription for all content
events, crawl v1, one headline edited and one article added, crawl again: exactly one signed
title_changed (old and new title) and one new_article reach the receiver, nothing for the
first crawl's articles or the unchanged ones; `newsmon events --json` lists the same."""

from __future__ import annotations

import json

import pytest

from tests.crawl.helpers import FAST, newsmon
from tests.notify.receivers import Webhook

pytestmark = pytest.mark.slow


def test_headline_edit_and_new_article_reach_the_webhook(replica, sqlite_url, tmp_path):
    receiver = Webhook(secret="topsecret")
    try:
        (tmp_path / "newsmon.toml").write_text(
            '[[notify]]\nname = "desk"\n'
            f'url = "{receiver.url}/newsmon"\nsecret = "${{DESK_SECRET}}"\n'
            '[[notify]]\nname = "broken"\nurl = "https://x.example/"\nevents = ["nope"]\n')
        env = {"NEWSMON_CONFIG_DIR": str(tmp_path), "DESK_SECRET": "topsecret"}

        def crawl(*extra):
            proc = newsmon("crawl", "--base-url", replica.base_url, "--db", sqlite_url, *FAST,
                           *extra, env=env, timeout=180)
            assert proc.returncode == 0, proc.stderr
            assert "subscription 'broken'" in proc.stderr  # reported, the crawl still ran
            return proc

        crawl()
        assert receiver.received == []  # bootstrap off: the first crawl announces nothing
        site = replica.site
        edited = site.case("full_2026").article_id
        old_title = site.expected(edited)["title"]
        site.edit_title(edited, "Nowy tytuł po publikacji: ambasador ujawnia kulisy")
        added = site.add_article(title="Świeży artykuł o szczycie w Wilnie")
        crawl("--recheck", "all")
    finally:
        receiver.close()
    assert receiver.bad_signatures == 0
    got = sorted((r["json"]["type"], r["json"]["article"]["site_id"]) for r in receiver.received)
    assert got == sorted([("title_changed", str(edited)), ("new_article", str(added))])
    [title] = [r["json"] for r in receiver.received if r["json"]["type"] == "title_changed"]
    assert title["change"] == {"old": old_title,
                               "new": "Nowy tytuł po publikacji: ambasador ujawnia kulisy"}

    listed = newsmon("events", "--db", sqlite_url, "--json", "--since", "2000-01-01", env=env)
    assert listed.returncode == 0, listed.stderr
    documents = [json.loads(line) for line in listed.stdout.splitlines()]
    delivered_ids = {r["json"]["id"] for r in receiver.received}
    assert delivered_ids <= {d["id"] for d in documents}
    later = [d for d in documents if d["type"] != "new_article" or
             d["article"]["site_id"] == str(added)]
    assert sorted(d["id"] for d in later) == sorted(delivered_ids)

    pending = newsmon("notify", "list", "--db", sqlite_url, "--json", env=env)
    [desk] = json.loads(pending.stdout)
    assert (desk["delivered"], desk["pending"], desk["failed"]) == (2, 0, 0)
    assert pending.returncode == 1  # the broken subscription is a config error
