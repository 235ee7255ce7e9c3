"""The versioning rules as pure functions: no database."""

from __future__ import annotations

import unicodedata

import pytest
from storage_records import make_record

from storage.versioning import (
    HASHED_FIELDS,
    changed_fields,
    classify,
    content_hash,
    is_preview_of,
    normalise,
    normalise_body,
    normalise_text,
)

BODY = make_record()["body"]


def current_of(record: dict) -> dict:
    return normalise(record)


def test_text_normalisation():
    decomposed = unicodedata.normalize("NFD", "Północna gęślą")
    assert normalise_text(decomposed) == "Północna gęślą"
    assert normalise_text("  a\u00a0 b\t\nc\u200b ") == "a b c"
    assert normalise_text("   ") is None and normalise_text(None) is None


def test_body_keeps_paragraphs_but_not_their_spacing():
    assert normalise_body("  One  line.\r\n \r\n\n Two\nlines. \n\n\n") == "One line.\n\nTwo lines."
    assert normalise_body(normalise_body(BODY)) == normalise_body(BODY)  # idempotent


def test_dates_are_compared_as_instants():
    a = make_record(published_at="2026-11-27T10:00:00+01:00")
    b = make_record(published_at="2026-11-27T09:00:00Z")
    assert normalise(a)["published_at"] == "2026-11-27T09:00:00Z"
    assert content_hash(a) == content_hash(b)
    c = make_record(published_at="2026-11-27T10:00:00+02:00")
    assert content_hash(a) != content_hash(c)


def test_furniture_is_not_hashed():
    base = make_record()
    furniture = make_record(
        url="https://www.rp.pl/x?utm=1",
        canonical_url=None,
        word_count=999,
        sources={"title": "fallback"},
        parser_version="7",
        body_complete=True,
    )
    assert content_hash(base) == content_hash(furniture)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "Inny tytuł"}, "title"),
        ({"lead": "Inny lead"}, "lead"),
        ({"body": BODY + "\n\nDopisek."}, "body"),
        ({"authors": ["Jan Kowalski", "Anna Nowak"]}, "authors"),
        ({"updated_at": "2026-11-27T12:00:00+01:00"}, "updated_at"),
        ({"section": "Świat"}, "section"),
        ({"tags": ["dyplomacja", "Genewa"]}, "tags"),  # order is visible on the page
        (
            {"image": {"url": "https://cdn.rp.pl/img/1.jpg", "caption": "Inny", "credit": "PAP"}},
            "image",
        ),
        ({"related": []}, "related"),
        ({"paywalled": True}, "paywalled"),
        ({"paywall_percent": 40}, "paywall_percent"),
    ],
)
def test_each_hashed_field_counts(change, field):
    base, edited = make_record(), make_record(**change)
    assert content_hash(base) != content_hash(edited)
    assert changed_fields(normalise(base), normalise(edited)) == [field]


def test_hashed_field_set():
    assert set(HASHED_FIELDS) == {
        "title", "lead", "body", "authors", "published_at", "updated_at", "section", "tags",
        "image", "related", "paywalled", "paywall_percent",
    }  # fmt: skip


def test_list_normalisation_drops_blanks_and_repeats():
    rec = make_record(tags=[" Genewa", "Genewa", "", "dyplomacja"], authors=["Jan  Kowalski"])
    assert content_hash(rec) == content_hash(make_record())


def test_image_may_be_an_object_or_absent():
    class Img:
        url, caption, credit = "https://cdn.rp.pl/img/1.jpg", "Delegacje", "PAP"

    assert content_hash(make_record(image=Img())) == content_hash(make_record())
    assert normalise(make_record(image={"url": None, "caption": " "}))["image"] is None


def test_first_version_changes_everything():
    assert changed_fields(None, normalise(make_record())) == ["*"]
    decision = classify(make_record())
    assert decision.kind == "new_article" and decision.changed_fields == ["*"]


def test_unchanged():
    cur = current_of(make_record())
    assert classify(make_record(word_count=1), cur).kind == "unchanged"


def test_edit():
    cur = current_of(make_record())
    decision = classify(make_record(title="Nowy"), cur)
    assert (decision.kind, decision.changed_fields) == ("new_version", ["title"])


@pytest.mark.parametrize("missing", [{"title": None}, {"body": "  "}, {"title": "", "body": None}])
def test_lost_title_or_body_is_a_parse_failure(missing):
    assert classify(make_record(**missing)).kind == "parse_failure"
    assert classify(make_record(**missing), current_of(make_record())).kind == "parse_failure"


def test_preview_after_full():
    cur = current_of(make_record())
    preview = make_record(
        body="Pierwszy akapit tekstu o rozmowach,\n dość długi", body_complete=False, paywalled=True
    )
    assert is_preview_of(cur, normalise(preview))
    decision = classify(preview, cur)
    assert decision.kind == "unchanged" and decision.reason


def test_preview_with_other_text_is_an_edit():
    cur = current_of(make_record())
    preview = make_record(body="Zupełnie inny początek tekstu.", body_complete=False)
    assert classify(preview, cur, max_body_shrink=1.0).kind == "new_version"


def test_preview_with_edited_title_is_an_edit():
    cur = current_of(make_record())
    preview = make_record(title="Nowy", body=BODY.split("\n\n")[0], body_complete=False)
    decision = classify(preview, cur)
    assert decision.kind == "new_version"
    assert decision.changed_fields == ["title", "body", "body_complete"]


def test_full_after_preview():
    cur = current_of(make_record(body=BODY.split("\n\n")[0], body_complete=False))
    decision = classify(make_record(), cur)
    assert decision.kind == "new_version"
    assert decision.changed_fields == ["body", "body_complete"]


def test_shrink_limit_is_configurable():
    cur = current_of(make_record())
    shrunk = make_record(body=BODY[: len(BODY) // 3])
    assert classify(shrunk, cur).kind == "suspect"
    assert classify(shrunk, cur, max_body_shrink=0.8).kind == "new_version"
    # A modest cut is an ordinary edit.
    assert classify(make_record(body=BODY[: int(len(BODY) * 0.7)]), cur).kind == "new_version"


def test_shrink_with_paywall_change_is_an_edit():
    # The article went behind the paywall with a teaser that is not a prefix of the text:
    # the paywall change explains the shrink, so it is recorded, not held as suspect.
    cur = current_of(make_record())
    walled = make_record(body="Zapowiedź dla subskrybentów.", body_complete=False, paywalled=True)
    decision = classify(walled, cur)
    assert decision.kind == "new_version"
    assert decision.changed_fields == ["body", "paywalled", "body_complete"]


@pytest.mark.parametrize("old_source", ["selector", "visible"])
@pytest.mark.parametrize("new_source", ["fallback", "jsonld", "meta", "pattern", None])
def test_source_weakening_with_another_value_is_suspect(old_source, new_source):
    old = make_record(sources={"lead": old_source})
    sources = {"lead": new_source} if new_source else {}
    new = make_record(lead="Czytaj więcej", sources=sources)
    decision = classify(new, current_of(old), current_sources=old["sources"])
    assert decision.kind == "suspect" and "lead" in decision.reason


def test_redesigned_page_is_suspect_not_an_edit():
    # Sources as the parser reports them for replica-seed and replica-seed-redesign.
    before = make_record(
        sources={"title": "selector", "lead": "selector", "authors": "selector",
                 "image": "selector", "paywall_percent": "selector"},
        paywall_percent=30,
    )  # fmt: skip
    after = make_record(
        title="Rozmowy w Genewie | Rzeczpospolita",  # the SEO title from JSON-LD
        sources={"title": "jsonld", "lead": "jsonld", "authors": "jsonld", "image": "meta",
                 "paywall_percent": "pattern"},
        paywall_percent=30,
    )  # fmt: skip
    decision = classify(after, current_of(before), current_sources=before["sources"])
    assert decision.kind == "suspect" and "title" in decision.reason


def test_weak_source_with_the_same_value_is_unchanged():
    old = make_record(sources={"lead": "selector"})
    new = make_record(sources={"lead": "jsonld"})
    assert classify(new, current_of(old), current_sources=old["sources"]).kind == "unchanged"


def test_change_between_trusted_or_from_weak_sources_is_an_edit():
    edited = {"lead": "Inny lead"}
    for old_src, new_src in [("selector", "visible"), ("jsonld", "fallback"), ("meta", "jsonld")]:
        old = make_record(sources={"lead": old_src})
        new = make_record(**edited, sources={"lead": new_src})
        decision = classify(new, current_of(old), current_sources=old["sources"])
        assert decision.kind == "new_version", (old_src, new_src)


def test_normalise_does_not_modify_its_input():
    rec = make_record(title="  x  ")
    normalise(rec)
    assert rec["title"] == "  x  "


def test_preview_lacks_the_related_cards_of_the_hidden_part():
    cur = current_of(make_record())
    preview = make_record(body=BODY.split("\n\n")[0], body_complete=False, related=[])
    assert classify(preview, cur).kind == "unchanged"
