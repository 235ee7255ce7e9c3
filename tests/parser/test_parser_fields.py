"""Field rules on small synthetic pages in the rp.pl 2026 template: one rule per test, so a
failure names the rule. (Whole realistic pages are covered by the fixture folders.)"""

from __future__ import annotations

import json

import pytest

from crawler.parsers import parse_article

URL = "https://www.rp.pl/dyplomacja/art44000123-przyklad"


def page(
    *,
    head_attrs: str = ' data-paywall-present="false"',
    jsonld: dict | None = None,
    date_line: str | None = (
        '<span id="liveRetainAtContainer" class="mr-3" style="display: none"> Aktualizacja: '
        '<span id="liveRetainAtContainerInner"> 01.02.2026 12:00 </span></span> Publikacja: '
        '<span id="livePublishedAtContainer"> 01.02.2026 10:00 </span>'
    ),
    byline: str = '<a href="/autor/1-jan-kowalski">Jan Kowalski</a>',
    body: str = "<p class='articleBodyBlock block--paragraph'>Akapit pierwszy.</p>",
    extra: str = "",
    canonical: str = URL,
) -> str:
    ld = ""
    if jsonld is not None:
        ld = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
    meta = f'<p class="article--meta">{date_line}</p>' if date_line is not None else ""
    return f"""<!DOCTYPE html><html lang="pl"><head{head_attrs}><meta charset="utf-8">
<link rel="canonical" href="{canonical}">{ld}</head><body><main>
<h1 class="article--title articleTitle">Tytuł artykułu</h1>
<div class="article--lead">Lead artykułu.</div>{meta}
<div class="author"><p class="name">{byline}</p></div>
<div class="main--content--body"><div class="paywallAccessWrapper">
<div class="body articleBody">{body}</div></div></div>{extra}
</main></body></html>"""


def parse(html: str, **kw):
    return parse_article(html, url=kw.pop("url", URL), **kw)


def test_hidden_update_is_ignored():
    r = parse(page())
    assert r.published_at == "2026-02-01T10:00:00+01:00"
    assert r.updated_at is None


def test_visible_update_later_than_publication():
    r = parse(page(date_line=(
        '<span id="liveRetainAtContainer"> Aktualizacja: <span id="liveRetainAtContainerInner">'
        " 02.02.2026 08:30 </span></span> Publikacja: <span id=\"livePublishedAtContainer\">"
        " 01.02.2026 10:00 </span>"
    )))
    assert r.updated_at == "2026-02-02T08:30:00+01:00"
    assert r.sources["updated_at"] == "visible"


def test_visible_update_not_later_is_ignored():
    r = parse(page(date_line=(
        '<span id="liveRetainAtContainer"> Aktualizacja: <span id="liveRetainAtContainerInner">'
        " 01.02.2026 10:00 </span></span> Publikacja: <span id=\"livePublishedAtContainer\">"
        " 01.02.2026 10:00 </span>"
    )))
    assert r.updated_at is None


def test_visible_line_beats_jsonld():
    ld = {"@type": "NewsArticle", "dateCreated": "2026-02-01T09:00:00+01:00",
          "datePublished": "2026-02-03T09:00:00+01:00", "dateModified": "2026-02-03T09:00:00+01:00"}
    r = parse(page(jsonld=ld))
    assert r.published_at == "2026-02-01T10:00:00+01:00"
    assert r.updated_at is None  # a visible date line exists: dateModified is not consulted


@pytest.mark.parametrize(
    ("ld", "published", "updated"),
    [
        ({"dateCreated": "2026-02-01T09:00:00+01:00", "dateModified": "2026-02-01T09:00:00+01:00"},
         "2026-02-01T09:00:00+01:00", None),
        ({"dateCreated": "2026-07-01T09:00:00+02:00", "datePublished": "2026-07-02T09:00:00+02:00",
          "dateModified": "2026-07-02T09:00:00+02:00"},
         "2026-07-01T09:00:00+02:00", "2026-07-02T09:00:00+02:00"),
        ({"datePublished": "2026-07-01T07:00:00Z"}, "2026-07-01T09:00:00+02:00", None),
    ],
    ids=["modified-equals-created", "modified-later", "utc-shown-in-warsaw-time"],
)
def test_jsonld_dates_without_a_visible_line(ld, published, updated):
    r = parse(page(date_line=None, jsonld={"@type": "NewsArticle", **ld}))
    assert (r.published_at, r.updated_at) == (published, updated)
    assert r.sources["published_at"] == "jsonld"


@pytest.mark.parametrize(
    ("visible", "expected"),
    [
        ("30.03.2025 01:59", "2025-03-30T01:59:00+01:00"),
        ("30.03.2025 03:00", "2025-03-30T03:00:00+02:00"),
        ("26.10.2025 01:59", "2025-10-26T01:59:00+02:00"),
        ("26.10.2025 03:00", "2025-10-26T03:00:00+01:00"),
        ("1.7.2025 9:05", "2025-07-01T09:05:00+02:00"),
    ],
)
def test_warsaw_offsets_across_dst(visible, expected):
    line = f'Publikacja: <span id="livePublishedAtContainer"> {visible} </span>'
    assert parse(page(date_line=line)).published_at == expected


@pytest.mark.parametrize(
    ("attrs", "jsonld", "expected"),
    [
        (' data-paywall-present="true"', None, True),
        (' data-paywall-present="false"', {"@type": "NewsArticle", "isAccessibleForFree": False},
         False),
        ("", {"@type": "NewsArticle", "isAccessibleForFree": False}, False),
    ],
    ids=["head-true", "head-false-beats-jsonld", "known-template-served-in-full"],
)
def test_paywalled_signals(attrs, jsonld, expected):
    r = parse(page(head_attrs=attrs, jsonld=jsonld))
    assert r.paywalled is expected
    assert r.body_complete is True


def test_jsonld_access_decides_only_when_nothing_else_does():
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "Tytuł", "hasPart": {"@type": "WebPageElement", '
        '"isAccessibleForFree": false, "cssSelector": ".x"}}</script></head><body>'
        "<article><p>Pierwszy dość długi akapit artykułu, który ma kilkanaście słów, aby "
        "ekstraktor uznał go za treść główną strony.</p></article></body></html>"
    )
    r = parse(html)
    assert (r.paywalled, r.sources["paywalled"]) == (True, "jsonld")


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ('<a href="/autor/1-a">Anna Nowak</a>, <a href="/autor/2-b">Jan Kowalski</a>',
         ["Anna Nowak", "Jan Kowalski"]),
        ('<a href="/autor/1-a">Anna Nowak</a> i arb', ["Anna Nowak", "arb"]),
        ("Opracowanie: Anna Nowak, Jan Kowalski", ["Anna Nowak", "Jan Kowalski"]),
        ("PAP", ["PAP"]),
        ("", []),
    ],
    ids=["two-links", "link-and-initials", "opracowanie-plain", "agency", "none"],
)
def test_authors(byline, expected):
    assert parse(page(byline=byline)).authors == expected


def test_authors_fall_back_to_jsonld():
    ld = {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Anna Nowak"},
                                             {"@type": "Person", "name": "Jan Kowalski"}]}
    r = parse(page(byline="", jsonld=ld))
    assert (r.authors, r.sources["authors"]) == (["Anna Nowak", "Jan Kowalski"], "jsonld")


def test_body_blocks_nbsp_duplicates_and_noise():
    body = (
        "<p>Pierwszy&nbsp;akapit z&nbsp;„cudzysłowem” i \"prostym\".</p>"
        "<div class='advertOuter'> Reklama </div><p> Reklama </p>"
        "<h2 class='block--header'>Śródtytuł</h2>"
        "<ul><li>punkt <b>pierwszy</b></li><li>punkt drugi</li></ul>"
        "<p>Pierwszy akapit z „cudzysłowem” i \"prostym\".</p>"
        "<div class='articleBodyBlock block--question--header'>Pytanie do rozmówcy?</div>"
        "<p>– Odpowiedź<br>w dwóch liniach.</p><script>var x = 1;</script><style>p{}</style>"
    )
    r = parse(page(body=body))
    assert r.body.split("\n\n") == [
        'Pierwszy akapit z „cudzysłowem” i "prostym".',
        "Śródtytuł",
        "punkt pierwszy",
        "punkt drugi",
        "Pytanie do rozmówcy?",
        "– Odpowiedź w dwóch liniach.",
    ]
    assert r.word_count == len(r.body.split())


def test_read_more_cards_become_related_once():
    card = (
        "<div class='articleBodyBlock block--content--excerpt'><div class='content--excerpt'>"
        "<p class='subtitle'>Czytaj więcej</p><a class='contentLink title' "
        "data-gtm-trigger='title' href='/polityka/art1-x'> Inny tekst </a>"
        "<p class='lead'>Lead...</p></div></div>"
    )
    r = parse(page(body=f"<p>Jeden.</p>{card}<p>Dwa.</p>{card}"))
    assert r.body == "Jeden.\n\nDwa."
    assert [(x.title, x.url) for x in r.related] == [
        ("Inny tekst", "https://www.rp.pl/polityka/art1-x")
    ]


def test_relative_canonical_and_article_id():
    r = parse(page(canonical="/dyplomacja/art44000999-inny"), url=None)
    assert r.canonical_url == "https://www.rp.pl/dyplomacja/art44000999-inny"
    assert r.url == r.canonical_url
    assert r.article_id == "44000999"


def test_tags_fall_back_to_meta_then_jsonld_keywords():
    r = parse(page(jsonld={"@type": "NewsArticle", "keywords": "NATO, AfD,nielegalna imigracja"}))
    assert (r.tags, r.sources["tags"]) == (["NATO", "AfD", "nielegalna imigracja"], "jsonld")
    tags_meta = '<meta property="mrf:tags" content="AFD;NATO">'
    html = page().replace("<meta charset", tags_meta + "<meta charset")
    r = parse(html)
    assert (r.tags, r.sources["tags"]) == (["AFD", "NATO"], "meta")


def test_generic_profile_reads_other_sites():
    html = page().replace('class="article--title articleTitle"', "")
    r = parse_article(html, url="https://example.org/news/1", site="generic")
    assert r.site == "generic" and r.article_id is None
    assert r.title == "Tytuł artykułu" and r.sources["title"] == "fallback"
