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


# --- rule 6a: a value that vanished, layout drift or a real removal --------------------------

# Layout signature and sources as the parser reports them for a replica 2026 page
# (crawler/parsers/article.py) ...
LAYOUT = [
    "authors:author_box", "authors:author_link", "body:body", "image:image_box",
    "image:image_caption", "image:image_credit", "image:image_img", "lead:lead", "page:scope",
    "published_at:published", "related:related_card", "tags:tags", "title:title",
    "updated_at:updated", "updated_at:updated_box",
]  # fmt: skip
SOURCES = {
    "title": "selector", "lead": "selector", "body": "selector", "authors": "selector",
    "published_at": "visible", "updated_at": "visible", "section": "jsonld", "tags": "selector",
    "image": "selector", "image.url": "selector", "image.caption": "selector",
    "image.credit": "selector", "related": "selector", "paywalled": "selector",
    "layout": LAYOUT,
}  # fmt: skip
# ... and for the same page after the replica's redesign (classes and ids renamed): the values
# survive through JSON-LD, meta and text patterns, only tags and read-more cards keep selectors.
REDESIGNED = {
    **SOURCES,
    "title": "jsonld", "lead": "jsonld", "body": "fallback", "authors": "jsonld",
    "published_at": "pattern", "updated_at": "pattern", "image": "meta", "image.url": "meta",
    "image.caption": "pattern", "image.credit": "pattern", "paywalled": "meta",
    "layout": ["related:related_card", "tags:tags"],
}  # fmt: skip
IMAGE = {"url": "https://cdn.rp.pl/img/1.jpg", "caption": "Siedziba MSZ", "credit": "Adobe Stock"}

# (name in the reason, the removal, source keys it clears, layout entries a real removal drops)
VANISHING = [
    ("authors", {"authors": []}, ["authors"], ["authors:author_box", "authors:author_link"]),
    ("tags", {"tags": []}, ["tags"], ["tags:tags"]),
    ("image", {"image": None}, ["image", "image.url", "image.caption", "image.credit"],
     ["image:image_box", "image:image_img", "image:image_caption", "image:image_credit"]),
    ("image.caption", {"image": {**IMAGE, "caption": None}}, ["image.caption"],
     ["image:image_caption"]),
    ("image.credit", {"image": {**IMAGE, "credit": None}}, ["image.credit"],
     ["image:image_credit"]),
    ("lead", {"lead": None}, ["lead"], ["lead:lead"]),
    # The update span stays in the page, hidden: a real removal moves no selector at all.
    ("updated_at", {"updated_at": None}, ["updated_at"], []),
    ("published_at", {"published_at": None, "updated_at": None},
     ["published_at", "updated_at"],
     ["published_at:published", "updated_at:updated", "updated_at:updated_box"]),
    ("related", {"related": []}, ["related"], ["related:related_card"]),
    ("section", {"section": None}, ["section"], []),
    ("paywall_percent", {"paywall_percent": None}, ["paywall_percent"], []),
]  # fmt: skip
VANISHING_IDS = [case[0] for case in VANISHING]


def _page(sources: dict, **changes) -> dict:
    base = {"authors": ["Jan Kowalski", "Anna Nowak"], "image": IMAGE, "paywall_percent": 40,
            "paywalled": True}
    return make_record(**{**base, **changes}, sources=dict(sources))


def _without(sources: dict, keys, entries=()) -> dict:
    out = {k: v for k, v in sources.items() if k not in keys}
    out["layout"] = [e for e in sources["layout"] if e not in entries]
    return out


def _classify(before: dict, after: dict):
    return classify(after, current_of(before), current_sources=before["sources"])


@pytest.mark.parametrize(("name", "removal", "keys", "own"), VANISHING, ids=VANISHING_IDS)
def test_value_vanishing_on_a_redesigned_page_is_suspect(name, removal, keys, own):
    before = _page(SOURCES)
    after = _page(_without(REDESIGNED, keys), **removal)
    decision = _classify(before, after)
    assert decision.kind == "suspect"
    assert "vanished, layout changed (" in decision.reason and name in decision.reason
    assert decision.changed_fields == [f for f in HASHED_FIELDS if f in removal]


@pytest.mark.parametrize(("name", "removal", "keys", "own"), VANISHING, ids=VANISHING_IDS)
def test_value_really_removed_from_an_intact_page_is_a_version(name, removal, keys, own):
    before = _page(SOURCES)
    after = _page(_without(SOURCES, keys, own), **removal)
    decision = _classify(before, after)
    assert decision.kind == "new_version", decision.reason
    assert decision.changed_fields == [f for f in HASHED_FIELDS if f in removal]


@pytest.mark.parametrize(("name", "removal", "keys", "own"), VANISHING, ids=VANISHING_IDS)
def test_value_vanishing_while_one_other_selector_moved_is_suspect(name, removal, keys, own):
    # Structure intact but for one selector of a field whose value did not change (the lead,
    # now read from JSON-LD with the same text; the title when the lead itself vanishes).
    other = "title:title" if name == "lead" else "lead:lead"
    before = _page(SOURCES)
    after = _page(_without(SOURCES, keys, [*own, other]), **removal)
    decision = _classify(before, after)
    assert decision.kind == "suspect" and name in decision.reason
    assert f"layout changed ({other.partition(':')[0]})" in decision.reason


@pytest.mark.parametrize("weak", ["jsonld", "meta", "pattern", "fallback"])
def test_vanishing_value_from_a_weak_source_is_suspect_too(weak):
    # The date read from a pattern (or an image URL from meta) was never "the site's markup";
    # rule 6b alone let it vanish. Whatever its source, a vanished value needs an intact page.
    before = _page({**SOURCES, "updated_at": weak, "tags": weak})
    after = _page(_without(REDESIGNED, ["updated_at", "tags"]), updated_at=None, tags=[])
    decision = _classify(before, after)
    assert decision.kind == "suspect"
    assert "updated_at" in decision.reason and "tags" in decision.reason


def test_caption_and_credit_lost_with_the_image_url_from_meta_is_suspect():
    # The reported case: the image's URL came from meta in both fetches (so "image" never fell
    # back), caption and credit from the image box, which the new classes no longer match.
    before = _page({**SOURCES, "image": "meta", "image.url": "meta"})
    after = _page(_without(REDESIGNED, ["image.caption", "image.credit"]),
                  image={**IMAGE, "caption": None, "credit": None})
    decision = _classify(before, after)
    assert decision.kind == "suspect" and decision.changed_fields == ["image"]
    assert "image.caption, image.credit" in decision.reason


def test_one_author_of_several_dropped_is_a_version():
    before = _page(SOURCES)
    decision = _classify(before, _page(SOURCES, authors=["Anna Nowak"]))
    assert (decision.kind, decision.changed_fields) == ("new_version", ["authors"])


def test_photo_taken_out_while_another_field_is_edited_is_a_version():
    # Both changed fields may move their own selectors (a new lead selector would be "lead").
    before = _page(SOURCES)
    sources = _without(SOURCES, ["image", "image.url", "image.caption", "image.credit"],
                       [e for e in LAYOUT if e.startswith("image:")])
    decision = _classify(before, _page(sources, image=None, title="Nowy tytuł"))
    assert (decision.kind, decision.changed_fields) == ("new_version", ["title", "image"])


@pytest.mark.parametrize(
    "stored_sources",
    [
        {k: v for k, v in SOURCES.items() if not k.startswith("image.") and k != "layout"},
        None,
    ],
    ids=["version-without-signature", "version-without-sources"],
)
def test_without_a_signature_a_vanished_value_is_held(stored_sources):
    # Versions archived before layout signatures existed: nothing proves the page intact.
    before = _page(SOURCES)
    after = _page(_without(SOURCES, ["tags"], ["tags:tags"]), tags=[])
    decision = classify(after, current_of(before), current_sources=stored_sources)
    assert decision.kind == "suspect"
    assert "no layout signature" in decision.reason and "tags" in decision.reason


def test_old_version_image_source_stands_for_its_parts():
    # Before part sources, "image" was the source of url, caption and credit alike.
    old_sources = {"image": "selector", "title": "selector"}
    before = _page(old_sources)
    after = _page(REDESIGNED, image={**IMAGE, "caption": "Ministerstwo"})
    decision = classify(after, current_of(before), current_sources=old_sources)
    assert decision.kind == "suspect" and "fell back: image.caption" in decision.reason


def test_caption_read_by_pattern_with_another_text_is_suspect():
    before = _page(SOURCES)
    after = _page(REDESIGNED, image={**IMAGE, "caption": "Siedziba MSZ. Foto: Adobe Stock"})
    decision = _classify(before, after)
    assert decision.kind == "suspect" and decision.reason.endswith("fell back: image.caption")


def test_shrink_reason_also_names_the_drifted_fields():
    before = _page(SOURCES)
    after = _page(_without(REDESIGNED, ["tags"]), tags=[], body=BODY[: len(BODY) // 3])
    decision = _classify(before, after)
    assert decision.kind == "suspect"
    assert decision.reason.startswith("body shrank") and "tags" in decision.reason


def test_layout_signature_is_not_hashed():
    with_layout = _page(SOURCES)
    assert content_hash(with_layout) == content_hash(_page(REDESIGNED))
    assert _classify(with_layout, _page(REDESIGNED)).kind == "unchanged"
