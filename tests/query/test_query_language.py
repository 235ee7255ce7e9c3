"""The search query language and the folding normaliser (pure functions, no database)."""

from __future__ import annotations

import pytest

from storage.query import csv_cell, read_csv_records, write_csv
from storage.query.diff import condense, diff_records, render_markers, word_diff
from storage.query.errors import QueryError
from storage.query.language import parse_query
from storage.query.search_pg import to_tsquery
from storage.query.search_sqlite import to_fts5
from storage.textfold import fold, fold_words


@pytest.mark.parametrize(("text", "folded"), [
    ("Łódź", "lodz"),
    ("Północną", "polnocna"),
    ("gęślą", "gesla"),
    ("ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "zazolc gesla jazn"),
    ("Straße Øresund", "strasse oresund"),
    (None, ""),
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_fold_keeps_word_count():
    text = "Łódź, Północną — gęślą; ĄĆĘŁŃÓŚŹŻ ąćęłńóśźż"
    assert len(fold_words(text)) == len(text.replace(",", " ").replace(";", " ").split()) - 1


@pytest.mark.parametrize(("query", "fts5", "tsquery"), [
    ("Łódź", '"lodz"', "('lodz')"),
    ("stoltenb*", '"stoltenb"*', "('stoltenb':*)"),
    ('"pakt obronny"', '"pakt obronny"', "('pakt' <-> 'obronny')"),
    ("nato -rosja", '(("nato") NOT "rosja")', "(('nato') & !('rosja'))"),
    ("a OR b", '("a" OR "b")', "(('a') | ('b'))"),
    ("polsko-ukraiński", '"polsko ukrainski"', "('polsko' <-> 'ukrainski')"),
    ("NEAR x", '("near" AND "x")', "(('near') & ('x'))"),
])
def test_rendering(query, fts5, tsquery):
    tree = parse_query(query)
    assert to_fts5(tree) == fts5
    assert to_tsquery(tree) == tsquery


@pytest.mark.parametrize("query", [
    '"unbalanced', "AND", "a AND", "OR b", "a OR", "-x", "NOT", "(a", "a)", "()", "*", "", "  ",
])
def test_malformed_queries(query):
    with pytest.raises(QueryError):
        parse_query(query)


def test_injection_attempts_are_plain_words():
    tree = parse_query("x'; DROP TABLE articles; -- OR 1=1")
    assert "'" not in to_fts5(tree)
    for rendered in (to_fts5(tree), to_tsquery(tree)):
        assert ";" not in rendered and "--" not in rendered and ")'" not in rendered


def test_word_diff_round_trips():
    old, new = "Ala ma kota i psa.", "Ala ma dużego kota, psa."
    ops = word_diff(old, new)
    assert "".join(o["text"] for o in ops if o["op"] != "insert") == old
    assert "".join(o["text"] for o in ops if o["op"] != "delete") == new
    assert render_markers(ops) == "Ala ma [-kota i-] {+dużego kota,+} psa."


def test_condense_cuts_long_unchanged_text():
    words = " ".join(str(i) for i in range(200))
    ops = condense(word_diff(words, words.replace(" 100 ", " sto ")), context=3)
    assert "… " in ops[0]["text"] and len(ops[0]["text"]) < 30


def test_diff_records_lists_changed_fields_only():
    old = {"title": "A b", "authors": ["X"], "paywall_percent": 80}
    new = {"title": "A c", "authors": ["X"], "paywall_percent": 55}
    fields = diff_records(old, new)
    assert [f["field"] for f in fields] == ["title", "paywall_percent"]
    assert "ops" in fields[0] and "ops" not in fields[1]


@pytest.mark.parametrize("value", ["=1+1", "+48 123", "-5", "@SUM(A1)", "\tx"])
def test_csv_formula_prefixes_are_neutralised(value):
    assert csv_cell(value) == "'" + value
    assert csv_cell(value, raw=True) == value


def test_csv_round_trip():
    import io

    out = io.StringIO()
    write_csv([{"title": "=cmd", "authors": ["Ł"], "n": 3, "flag": True, "none": None}], out)
    back = read_csv_records(out.getvalue())
    assert back == [{"title": "=cmd", "authors": '["Ł"]', "n": "3", "flag": "true", "none": ""}]


def test_highlight_and_snippet_mark_original_words():
    from storage.query.highlight import highlight, snippet

    tree = parse_query('lodz "pakt obronny" stoltenb*')
    marked, n = highlight("W Łodzi i Łódź: Pakt obronny, Stoltenberga.", tree, ("[", "]"))
    assert marked == "W Łodzi i [Łódź]: [Pakt obronny], [Stoltenberga]." and n == 3
    body = " ".join(["słowo"] * 60) + " Łódź była tam. " + " ".join(["inne"] * 60)
    passage, n = snippet(body, tree, ("<b>", "</b>"), words=10)
    assert n == 1 and "<b>Łódź</b>" in passage
    assert passage.startswith("…") and passage.endswith("…") and len(passage.split()) <= 16
    assert snippet("Bez trafień.", tree, ("[", "]")) == ("Bez trafień.", 0)
