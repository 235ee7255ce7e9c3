"""The body diff the diff page shows: paragraphs aligned, whole words inside them."""

from __future__ import annotations

from storage.query.paragraphs import collapse, paragraph_diff


def _ops(rows):
    return [(o["op"], o["text"]) for r in rows if r["op"] == "change" for o in r["ops"]]


def test_polish_words_are_replaced_whole():
    old = "Spotkanie odbędzie się w poniedziałek w Warszawie."
    new = "Spotkanie odbędzie się we wtorek w Warszawie."
    rows = paragraph_diff(old, new)
    assert [r["op"] for r in rows] == ["change"]
    assert _ops(rows) == [("equal", "Spotkanie odbędzie się "), ("delete", "w poniedziałek "),
                          ("insert", "we wtorek "), ("equal", "w Warszawie.")]
    # No fragment of a word on its own: every changed token is a whole word of its text.
    for op, text in _ops(rows):
        if op != "equal":
            assert all(word in (old + " " + new).split() for word in text.split())


def test_paragraphs_align_around_an_inserted_and_a_removed_paragraph():
    keep = [f"Akapit numer {n} mówi o czymś zupełnie innym niż pozostałe." for n in range(6)]
    old = "\n\n".join(keep)
    new_paras = keep[:2] + ["Zupełnie nowy akapit dopisany przez redakcję."] + keep[2:5]
    new_paras[4] = new_paras[4].replace("czymś", "kimś")
    rows = paragraph_diff(old, "\n\n".join(new_paras))
    assert [r["op"] for r in rows] == ["equal", "equal", "insert", "equal", "change", "equal",
                                       "delete"]
    assert rows[2]["new"].startswith("Zupełnie nowy") and rows[6]["old"] == keep[5]
    assert ("delete", "czymś ") in _ops(rows) and ("insert", "kimś ") in _ops(rows)


def test_unrelated_paragraphs_are_removed_and_added_not_word_diffed():
    rows = paragraph_diff("Pierwszy tekst o dyplomacji.", "Całkiem inne zdanie bez związku.")
    assert [r["op"] for r in rows] == ["delete", "insert"]


def test_unchanged_paragraphs_fold_with_context_and_are_kept():
    paras = [f"Akapit {n} bez zmian." for n in range(10)]
    changed = paras.copy()
    changed[5] = "Akapit 5 ze zmianą."
    rows = collapse(paragraph_diff("\n\n".join(paras), "\n\n".join(changed)), context=1)
    assert [r["op"] for r in rows] == ["skip", "equal", "change", "equal", "skip"]
    assert len(rows[0]["rows"]) == 4 and len(rows[-1]["rows"]) == 3
    assert collapse(paragraph_diff("a b", "a b")) == [{"op": "skip", "rows": [
        {"op": "equal", "old": "a b", "new": "a b"}]}]
