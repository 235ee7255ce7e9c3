"""A realistic parser record for storage tests (plain module: importable from tests and from
worker processes spawned by them)."""

from __future__ import annotations

import copy

BASE_RECORD = {
    "url": "https://www.rp.pl/dyplomacja/art100-rozmowy-w-genewie",
    "canonical_url": "https://www.rp.pl/dyplomacja/art100-rozmowy-w-genewie",
    "article_id": "100",
    "site": "rp",
    "section": "Dyplomacja",
    "title": "Rozmowy w Genewie",
    "lead": "Delegacje spotkały się w poniedziałek.",
    "body": (
        "Pierwszy akapit tekstu o rozmowach, dość długi, żeby miał treść.\n\n"
        "Drugi akapit: szczegóły spotkania i wypowiedzi ministrów.\n\n"
        "Trzeci akapit z podsumowaniem i zapowiedzią kolejnej rundy."
    ),
    "authors": ["Jan Kowalski"],
    "published_at": "2026-11-27T10:00:00+01:00",
    "updated_at": "2026-11-27T11:30:00+01:00",
    "paywalled": False,
    "paywall_percent": None,
    "body_complete": True,
    "tags": ["Genewa", "dyplomacja"],
    "image": {"url": "https://cdn.rp.pl/img/1.jpg", "caption": "Delegacje", "credit": "PAP"},
    "related": [{"title": "Poprzednia runda", "url": "https://www.rp.pl/dyplomacja/art99-x"}],
    "word_count": 30,
    "sources": {"title": "selector", "body": "selector", "lead": "selector", "authors": "jsonld"},
    "parser_version": "1",
}


def make_record(**changes) -> dict:
    record = copy.deepcopy(BASE_RECORD)
    record.update(changes)
    return record
