"""Change events: derivation (pure) and their rows, written with the version that made them."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy.orm import Session

from storage import Archive
from storage.changes import change_summary
from storage.events import EVENT_TYPES, derive_events, event_key
from storage.outbox import list_events
from storage.versioning import normalise

RECORD = {
    "url": "https://www.rp.pl/dyplomacja/art100-rozmowy",
    "article_id": "100", "site": "rp", "section": "Dyplomacja",
    "title": "Rozmowy w Genewie", "lead": "Delegacje spotkały się w poniedziałek.",
    "body": "Pierwszy akapit o rozmowach.\n\nDrugi akapit: szczegóły spotkania ministrów.",
    "authors": ["Jan Kowalski"], "published_at": "2026-11-27T10:00:00+01:00",
    "updated_at": None, "paywalled": False, "paywall_percent": None, "tags": ["Genewa"],
    "image": None, "related": [], "sources": {"title": "selector", "body": "selector"},
}


def record(**changes):
    out = copy.deepcopy(RECORD)
    out.update(changes)
    return out


def derived(old, new):
    prev, cur = (normalise(old) if old else None), normalise(new)
    return derive_events(prev, cur, change_summary(prev, cur))


def test_first_version_is_new_article():
    [event] = derived(None, record())
    assert event.type == "new_article" and event.payload["title"] == "Rozmowy w Genewie"


def test_one_event_per_changed_field_in_reading_order():
    new = record(title="Rozmowy w Genewie zerwane", body=RECORD["body"] + " Koniec.",
                 authors=["Anna Nowak"], paywalled=True, paywall_percent=60,
                 updated_at="2026-11-27T12:00:00+01:00")
    events = derived(record(), new)
    assert [e.type for e in events] == ["title_changed", "body_changed", "authors_changed",
                                        "updated_changed", "paywall_changed"]
    assert events[0].payload == {"old": "Rozmowy w Genewie", "new": "Rozmowy w Genewie zerwane"}
    assert events[1].payload["words_added"] == 1 and events[1].payload["words_removed"] == 0
    assert events[4].payload == {"old": {"paywalled": False, "percent": None},
                                 "new": {"paywalled": True, "percent": 60}}
    assert all(e.type in EVENT_TYPES for e in events)


def test_fields_without_an_event_make_none():
    assert derived(record(), record(section="Świat", related=[{"title": "x", "url": "y"}])) == []


@pytest.fixture
def archive(db_url):
    with Archive.open(db_url) as arch:
        yield arch


def test_events_are_written_with_their_version(archive):
    run = archive.start_run("rp")
    archive.record_fetch(run, "rp", "100", RECORD["url"], record(), b"<html>1</html>")
    archive.record_fetch(run, "rp", "100", RECORD["url"], record(title="Nowy tytuł"),
                         b"<html>2</html>")
    archive.record_fetch(run, "rp", "100", RECORD["url"], record(title="Nowy tytuł"),
                         b"<html>2</html>")  # unchanged: no event
    # A body that lost most of its words is held back as suspect: no version, no event.
    archive.record_fetch(run, "rp", "100", RECORD["url"],
                         record(title="Nowy tytuł", body="Pierwszy."), b"<html>3</html>")
    with Session(archive.engine) as s:
        events = list_events(s)
    assert [(e["type"], e["version"]) for e in events] == [("new_article", 1),
                                                           ("title_changed", 2)]
    article = events[1]["article"]
    assert events[1]["key"] == event_key("title_changed", article=article["id"], version=2)
    assert events[1]["payload"] == {"old": "Rozmowy w Genewie", "new": "Nowy tytuł"}
    assert article["site"] == "rp" and article["site_id"] == "100"
    assert article["title"] == "Nowy tytuł"
