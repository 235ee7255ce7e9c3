"""[[notify]] tables: ${VAR} expansion, clear errors naming the subscription, filters,
signatures and messages (pure)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from newsmon.notify import messages
from newsmon.notify.sender import BACKOFF_CAP, backoff
from newsmon.notify.subscriptions import parse_subscriptions, query_matches
from storage.query.language import parse_query
from storage.textfold import fold_words


def parse(*tables, env=None):
    return parse_subscriptions(list(tables), env or {})


def test_variables_are_expanded_and_defaults_apply():
    [sub], errors = parse({"name": "h", "url": "https://x.example/${PATH_PART}",
                           "secret": "${S}"}, env={"PATH_PART": "in", "S": "k"})
    assert errors == [] and sub.url == "https://x.example/in" and sub.secret == "k"
    assert "title_changed" in sub.events and "run_failed" not in sub.events
    assert sub.mode == "immediate" and not sub.bootstrap


def test_each_bad_subscription_is_named_and_the_rest_kept(tmp_path):
    bad_template = tmp_path / "t.j2"
    bad_template.write_text("{% if %}")
    good, errors = parse(
        {"name": "ok", "url": "https://x.example/"},
        {"name": "novar", "url": "https://x.example/", "secret": "${MISSING}"},
        {"name": "kind", "url": "https://x.example/", "events": ["title_change"]},
        {"name": "url", "url": "https:///nohost"},
        {"name": "scheme", "url": "nosuchservice://x"},
        {"name": "tpl", "url": "https://x.example/", "template": str(bad_template)},
        {"name": "cron", "url": "https://x.example/", "mode": "digest", "cron": "61 * * * *"},
        {"name": "typo", "url": "https://x.example/", "evnets": []},
        {"name": "ok", "url": "https://y.example/"},
    )
    assert [s.name for s in good] == ["ok"]
    expected = [("'novar'", "MISSING"), ("'kind'", "title_change"), ("'url'", "malformed"),
                ("'scheme'", "Apprise"), ("'tpl'", "line 1"), ("'cron'", "cron"),
                ("'typo'", "evnets"), ("'ok'", "twice")]
    assert len(errors) == len(expected)
    for error, (name, detail) in zip(errors, expected, strict=True):
        assert name in error and detail in error


def event(kind, payload, **article):
    return {"type": kind, "payload": payload, "key": "a1:v2:" + kind, "version": 2,
            "occurred_at": datetime(2026, 11, 28, tzinfo=UTC),
            "article": {"id": 1, "site": "rp", "site_id": "100", "url": "https://www.rp.pl/a",
                        "title": "Nowy tytuł", "lead": "", "body": "Rozmowy w Łodzi trwają",
                        "section": "Dyplomacja", "authors": ["Jan Kowalski"], **article}}


def test_filters():
    [paywall, share] = parse({"name": "p", "url": "https://x/", "paywall_threshold": 50},
                             {"name": "b", "url": "https://x/", "min_body_change": 0.2})[0]
    crossing = {"old": {"paywalled": True, "percent": 40}, "new": {"paywalled": True,
                                                                   "percent": 70}}
    staying = {"old": {"paywalled": True, "percent": 60}, "new": {"paywalled": True,
                                                                  "percent": 70}}
    assert paywall.matches(event("paywall_changed", crossing))
    assert not paywall.matches(event("paywall_changed", staying))
    assert share.matches(event("body_changed", {"body_share": 0.3}))
    assert not share.matches(event("body_changed", {"body_share": 0.1}))


def test_query_uses_the_search_language_with_folding():
    words = fold_words("Rozmowy w Łodzi trwają, Stoltenberg milczy")
    assert query_matches(parse_query("lodzi stolten*"), words)
    assert query_matches(parse_query('"w lodzi" OR nic'), words)
    assert not query_matches(parse_query("lodzi -milczy"), words)
    assert not query_matches(parse_query('"lodzi w"'), words)


def test_signature_is_hmac_sha256_of_the_body():
    body = b'{"a":1}'
    assert messages.signature("k", body) == "sha256=" + hmac.new(b"k", body,
                                                                 hashlib.sha256).hexdigest()


def test_text_message_is_cut_to_the_limit_keeping_the_link():
    long = event("title_changed", {"old": "a " * 400, "new": "b " * 400})
    text = messages.text_body(long, "https://n.example", limit=200)
    assert len(text) <= 200 and text.endswith("/articles/1/diff?from=1&to=2")


def test_backoff_doubles_and_honours_retry_after():
    assert [backoff(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(1, retry_after=300) == 300 and backoff(50) == BACKOFF_CAP


def test_sites_filter_article_and_run_events():
    [sub], errors = parse({"name": "s", "url": "https://x/", "sites": ["wp"],
                           "events": ["title_changed", "run_failed"]})
    assert errors == [] and sub.sites == ("wp",)
    assert sub.matches(event("title_changed", {}, site="wp"))
    assert not sub.matches(event("title_changed", {}))  # an rp article
    run = {"type": "run_failed", "payload": {"run_id": 3, "site": "wp"}, "article": None}
    assert sub.matches(run)
    assert not sub.matches({**run, "payload": {"run_id": 4, "site": "rp"}})
