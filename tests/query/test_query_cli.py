"""The query commands, run in-process (and once as a real subprocess), on both backends."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from newsmon.cli import main
from tests.query.conftest import FOLDING, FORMULA, FORMULA_TITLE, NEW_TITLE, PAYWALL, SEED

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses


@pytest.fixture
def run(built, capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)

    def _run(*argv, colour=False):
        import newsmon.cli.output as output

        monkeypatch.setattr(output, "use_colour", lambda stream=None: colour)
        code = main([argv[0], "--db", built.url, *argv[1:]])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _json(run, *argv):
    code, out, err = run(*argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_articles_json_fields(run):
    rows = _json(run, "articles", "--limit", "100")
    seed = next(r for r in rows if r["article_id"] == SEED)
    assert seed["title"] == NEW_TITLE and seed["versions"] == 2
    for key in ("id", "url", "published_at", "authors", "paywalled", "paywall_percent"):
        assert key in seed


@pytest.mark.parametrize(("args", "check"), [
    (["--changed"], lambda rows: {r["article_id"] for r in rows} == {SEED, PAYWALL}),
    (["--changed-since", "2000-01-01"], lambda rows: {r["article_id"] for r in rows}
     == {SEED, PAYWALL}),
    (["--author", "lomanowski"], lambda rows: rows and all(
        "Andrzej Łomanowski" in r["authors"] for r in rows)),
    (["--tag", "Radosław Sikorski"], lambda rows: rows and all(
        "Radosław Sikorski" in r["tags"] for r in rows)),
    (["--section", "Dyplomacja"], lambda rows: len(rows) > 20),
    (["--paywalled"], lambda rows: rows and all(r["paywalled"] for r in rows)),
    (["--free"], lambda rows: rows and not any(r["paywalled"] for r in rows)),
    (["--since", "2026-01-01"], lambda rows: rows and all(
        r["published_at"] >= "2026-01-01" for r in rows)),
    (["--until", "2024-12-31"], lambda rows: rows and all(
        r["published_at"] < "2025-01-01" for r in rows)),
    (["--limit", "3", "--order", "oldest"], lambda rows: len(rows) == 3 and
     rows[0]["published_at"] <= rows[1]["published_at"] <= rows[2]["published_at"]),
])
def test_articles_filters(run, args, check):
    assert check(_json(run, "articles", "--limit", "100", *args))


def test_articles_table(run):
    code, out, _ = run("articles", "--limit", "5")
    assert code == 0 and "published" in out and "\x1b[" not in out


@pytest.mark.parametrize("argv", [
    ["articles", "--since", "yesterday"],
    ["articles", "--limit", "0"],
    ["articles", "--paywalled", "--free"],
    ["articles", "--order", "random"],
])
def test_articles_bad_input(run, argv):
    with pytest.raises(SystemExit) as exc:
        run(*argv)
    assert exc.value.code == 2


def test_show(run):
    record = _json(run, "show", f"art{SEED}")
    assert record["version"] == 2 and record["title"] == NEW_TITLE
    first = _json(run, "show", SEED, "--version", "1")
    assert first["version"] == 1 and first["title"] != NEW_TITLE
    code, out, _ = run("show", SEED)
    assert code == 0 and NEW_TITLE in out and "version: 2 of 2" in out


def test_show_unknown_article_or_version(run):
    code, _, err = run("show", "12345678901")
    assert code == 2 and err.count("\n") == 1 and "no article" in err
    code, _, err = run("show", SEED, "--version", "9")
    assert code == 2 and "no version 9" in err


def test_versions(run):
    versions = _json(run, "versions", SEED)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["changed_fields"] == ["*"]
    assert set(versions[1]["changed_fields"]) == {"title", "body"}
    assert all({"fetched_at", "content_hash"} <= set(v) for v in versions)
    code, out, _ = run("versions", SEED)
    assert code == 0 and "title, body" in out


def test_diff_plain_markers_when_piped(run):
    code, out, _ = run("diff", SEED)
    assert code == 0
    assert "[-Według-]" in out or "[-Według" in out
    assert "{+Zdaniem" in out and "title:" in out and "body:" in out
    assert "\x1b[" not in out


def test_diff_colour_on_terminal(run):
    code, out, _ = run("diff", SEED, colour=True)
    assert code == 0 and "\x1b[" in out and "[-" not in out


def test_diff_json_and_versions(run):
    diff = _json(run, "diff", SEED, "1", "2")
    assert {f["field"] for f in diff["fields"]} == {"title", "body"}
    assert all("ops" in f for f in diff["fields"])
    paywall = _json(run, "diff", PAYWALL)
    assert paywall["fields"] == [{"field": "paywall_percent", "old": 89, "new": 55}]
    code, _, err = run("diff", SEED, "1")
    assert code == 2 and "two versions" in err
    code, _, err = run("diff", FOLDING)
    assert code == 2 and "single version" in err


def test_search(run):
    hits = _json(run, "search", "polnocna")
    assert SEED in {h["article_id"] for h in hits}
    hit = next(h for h in _json(run, "search", "lodz") if h["article_id"] == FOLDING)
    assert "[Łódź]" in hit["snippet"]
    history = _json(run, "search", '"podpisanie paktu"', "--all-versions")
    assert [(h["article_id"], h["version"]) for h in history] == [(SEED, 1)]
    code, out, _ = run("search", "stoltenb*")
    assert code == 0 and "[Stoltenberg" in out
    code, out, _ = run("search", "stoltenb*", colour=True)
    assert code == 0 and "\x1b[" in out and "\x02" not in out


@pytest.mark.parametrize("query", ['"pakt', "AND", "(nato", "-nato", "OR"])
def test_search_malformed_is_exit_2(run, query):
    code, out, err = run("search", "--", query)  # "--": a query may start with "-"
    assert code == 2 and out == ""
    assert err.startswith("newsmon search: error:") and err.count("\n") == 1


def test_export_jsonl_to_stdout_and_file(run, built, tmp_path):
    code, out, _ = run("export")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and SEED in {r["article_id"] for r in records}
    target = tmp_path / "out.jsonl"
    code, _, err = run("export", "--versions", "--changed", "--output", str(target))
    assert code == 0 and "exported 4 records" in err
    lines = target.read_text(encoding="utf-8").splitlines()
    assert sorted((json.loads(x)["article_id"], json.loads(x)["version"]) for x in lines) == \
        sorted([(SEED, 1), (SEED, 2), (PAYWALL, 1), (PAYWALL, 2)])


def test_export_csv_escapes_unless_raw(run):
    code, out, _ = run("export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    row = next(r for r in rows if r["article_id"] == FORMULA)
    assert code == 0 and row["title"] == "'" + FORMULA_TITLE
    code, out, _ = run("export", "--format", "csv", "--raw")
    row = next(r for r in csv.DictReader(io.StringIO(out)) if r["article_id"] == FORMULA)
    assert row["title"] == FORMULA_TITLE


def test_export_unwritable_output(run, tmp_path):
    code, _, err = run("export", "--output", str(tmp_path / "missing" / "x.jsonl"))
    assert code == 2 and "cannot write" in err


def test_stats(run):
    stats = _json(run, "stats")
    assert stats["changed_articles"] == 2 and stats["versions"] == stats["articles"] + 2
    code, out, _ = run("stats")
    assert code == 0 and "most changed fields" in out and "paywalled" in out


def test_real_command_malformed_search(built):
    proc = subprocess.run(
        [sys.executable, "-m", "newsmon", "search", "--db", built.url, 'nato AND'],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "newsmon search: error: AND needs a term on both sides"]


def test_scraped_text_is_never_rich_markup(run):
    # The title holds "[bold]...[/bold]": tables must print it as written.
    code, out, _ = run("versions", FORMULA)
    assert code == 0 and "[bold]Trzech[/bold]" in out
    code, out, _ = run("articles", "--limit", "100")
    assert "[bold]Trzech[/bold]" in out
