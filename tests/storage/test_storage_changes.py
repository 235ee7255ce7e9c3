"""The per-version change summary (storage/changes.py): the pure function, and what the one
version-creation path stores with every version, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from storage_records import BASE_RECORD, make_record

from storage.changes import change_summary
from storage.query import get_version, get_versions, list_versions
from storage.versioning import normalise
from storage.worddiff import word_count, word_diff, words_changed

BODY = BASE_RECORD["body"]  # 25 words in three paragraphs
# Two words in, one out: "obu" added, "Trzeci" replaced by "Ostatni".
EDITED_BODY = BODY.replace("wypowiedzi ministrów", "wypowiedzi obu ministrów").replace(
    "Trzeci akapit", "Ostatni akapit")


def summary(before: dict | None, after: dict) -> dict:
    return change_summary(normalise(before) if before else None, normalise(after))


def test_first_version_adds_the_whole_body():
    assert word_count(BODY) == 25
    assert summary(None, make_record()) == {
        "words_added": 25, "words_removed": 0, "body_share": 1.0, "old": {}}


def test_whole_words_are_counted():
    out = summary(make_record(), make_record(body=EDITED_BODY))
    assert out == {"words_added": 2, "words_removed": 1, "body_share": 0.04, "old": {}}
    # "w poniedziałek" -> "we wtorek": two words replaced, not letters.
    assert words_changed("Spotkanie w poniedziałek rano.", "Spotkanie we wtorek rano.") == (2, 2)


def test_counts_are_the_words_of_the_diffs_insert_and_delete_runs():
    pairs = [(BODY, EDITED_BODY), ("a b c", "a x b y"), ("", "nowy tekst"), ("stary", None)]
    for old, new in pairs:
        ops = word_diff(old, new)
        counted = {op: sum(word_count(o["text"]) for o in ops if o["op"] == op)
                   for op in ("insert", "delete")}
        assert words_changed(old, new) == (counted["insert"], counted["delete"]), (old, new)
    # Whitespace is not a word: a paragraph break where a space was changes nothing.
    assert words_changed("jeden dwa\n\ntrzy", "jeden\n\ndwa trzy") == (0, 0)


def test_an_added_paragraph_removes_nothing_and_a_rewrite_everything():
    added = summary(make_record(), make_record(body=BODY + "\n\nCzwarty akapit, dopisany."))
    assert (added["words_added"], added["words_removed"], added["body_share"]) == (3, 0, 0.0)
    rewritten = summary(make_record(), make_record(body="Zupełnie inny tekst."))
    assert (rewritten["words_removed"], rewritten["body_share"]) == (25, 1.0)


def test_old_values_of_the_short_fields_that_changed():
    before = make_record(paywall_percent=80, paywalled=True)
    after = make_record(
        title="Nowy tytuł", authors=["Anna Nowak", "Jan Kowalski"], paywalled=True,
        paywall_percent=60, updated_at="2026-11-27T14:00:00+01:00", tags=["Genewa"],
        image={"url": "https://cdn.rp.pl/img/1.jpg", "caption": "Ministrowie", "credit": "PAP"},
        related=[], word_count=99)
    out = summary(before, after)
    assert out["old"] == {
        "title": "Rozmowy w Genewie",
        "authors": ["Jan Kowalski"],
        "updated_at": "2026-11-27T10:30:00Z",  # as hashed: UTC
        "tags": ["Genewa", "dyplomacja"],
        "paywall_percent": 80,
        "image": {"url": "https://cdn.rp.pl/img/1.jpg", "caption": "Delegacje", "credit": "PAP"},
    }  # related is not a short field; paywalled and the body did not change
    assert (out["words_added"], out["words_removed"], out["body_share"]) == (0, 0, 0.0)
    assert json.loads(json.dumps(out)) == out  # plain JSON, stored as it is


def fetch(archive, run, record, raw):
    return archive.record_fetch(run, "rp", record["article_id"], record["url"], record, raw)


def test_record_fetch_stores_the_summary_with_each_version(archive):
    run = archive.start_run("rp")
    fetch(archive, run, make_record(), b"1")
    fetch(archive, run, make_record(), b"1")  # unchanged: no version, no summary
    edited = make_record(title="Nowy tytuł", body=EDITED_BODY, authors=["Anna Nowak"])
    assert fetch(archive, run, edited, b"2").version == 2

    first, second = (v["change_summary"] for v in get_versions(archive, "100"))
    assert first == {"words_added": 25, "words_removed": 0, "body_share": 1.0, "old": {}}
    assert second == {"words_added": 2, "words_removed": 1, "body_share": 0.04,
                      "old": {"title": "Rozmowy w Genewie", "authors": ["Jan Kowalski"]}}
    assert [v["change_summary"] for v in list_versions(archive, "100")] == [first, second]
    assert get_version(archive, "100")["change_summary"] == second


def test_an_accepted_suspect_gets_its_summary(archive):
    run = archive.start_run("rp")
    fetch(archive, run, make_record(), b"1")
    shrunk = make_record(body="Pierwszy akapit tekstu o rozmowach.")  # 5 of 25 words left
    suspect = fetch(archive, run, shrunk, b"2")
    assert suspect.kind == "suspect" and len(get_versions(archive, "100")) == 1
    assert archive.accept_suspect(suspect.event_id).version == 2
    stored = get_version(archive, "100", 2)["change_summary"]
    assert stored == summary(make_record(), shrunk)
    assert (stored["words_removed"], stored["body_share"]) == (21, 0.84)
