"""Every replica-backed fixture checked against the replica's own ground truth
(`Article.expected_record()`), independently of the frozen expected.json; plus the seed
acceptance criteria spelled out one by one."""

from __future__ import annotations

import pytest
from parser_cases import all_cases, replica_page

from crawler.parsers import parse_article

REPLICA_CASES = [c for c in all_cases() if c.replica and not c.replica.get("redesign")]
SEED_SPEC = {"case": "seed"}


@pytest.mark.parametrize("case", REPLICA_CASES, ids=[c.name for c in REPLICA_CASES])
def test_matches_replica_ground_truth(case):
    html, truth = replica_page(case.replica)
    record = parse_article(html, url=case.url).to_dict()
    blocks = record["body"].split("\n\n") if record["body"] else []
    assert blocks == truth["body_blocks"], "body blocks"
    for key, value in truth.items():
        if key != "body_blocks":
            assert record[key] == value, key


def test_seed_acceptance():
    html, _ = replica_page(SEED_SPEC)
    r = parse_article(html)
    assert r.title == (
        "Sekretarz generalny NATO reaguje na pakt obronny zawarty przez Rosję i Koreę Północną"
    )
    assert r.lead.startswith("Podpisanie przez Władimira Putina i Kim Dzong Una umowy")
    assert r.lead.endswith("skomentował sekretarz generalny Sojuszu, Jens Stoltenberg.")
    assert r.published_at == "2024-06-20T06:01:00+02:00"
    assert r.updated_at is None
    assert r.authors == ["arb"]
    assert (r.paywalled, r.paywall_percent, r.body_complete) == (True, 82, True)
    blocks = r.body.split("\n\n")
    # The seed's paragraphs and both subheadings, in order ...
    assert blocks[0].startswith("Według Stoltenberga podpisanie paktu obronnego")
    assert "Jens Stoltenberg ostrzega: Reżimy autorytarne wspierają się, jak nigdy dotąd" in blocks
    assert any(b.startswith("Sekretarz generalny NATO tłumaczy, dlaczego Sojusz") for b in blocks)
    assert blocks[-1].endswith("nie powiedzie się - ostrzegł.")
    # ... without the read-more card, the pull quote, the repeated preview or the marker.
    assert not any("Czytaj więcej" in b or "Antyzachodni front Putina" in b for b in blocks)
    assert "Jens Stoltenberg, sekretarz generalny NATO" not in blocks
    assert not any(b.startswith("Jeśli nie będziemy w stanie zachować pokoju") for b in blocks)
    assert len(blocks) == len(set(blocks))
    assert not any("Pozostało" in b for b in blocks)
    assert [x.title for x in r.related] == ["Andrzej Łomanowski: Antyzachodni front Putina w Azji"]
    assert r.related[0].url.startswith("https://www.rp.pl/")
    assert r.image.credit.startswith("REUTERS/Johanna Geron")
    assert r.sources["published_at"] == "visible"


def test_redesigned_seed_degrades_to_fallbacks():
    """Every class and known id renamed: the fields still come out, from other signals, and
    the sources say which."""
    html, truth = replica_page({"case": "seed", "redesign": True})
    r = parse_article(html)
    for key in ("title", "lead", "published_at", "authors", "paywalled", "paywall_percent",
                "article_id", "section", "canonical_url"):
        assert getattr(r, key) == truth[key], key
    assert r.sources["title"] == "jsonld"
    assert r.sources["published_at"] == "pattern"
    assert r.sources["paywall_percent"] == "pattern"
    assert r.sources["body"] == "fallback"
    blocks = r.body.split("\n\n")
    missing = [b for b in truth["body_blocks"] if b not in blocks]
    assert not missing, missing
