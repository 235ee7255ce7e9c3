"""Generic main-text extraction: the body fallback when no configured body container matches
(a redesign, or the `generic` profile). trafilatura is the best measured peer
(/work/shared/extraction-peers.md); it copies the tree it is given, so ours stays intact."""

from __future__ import annotations

import logging

import trafilatura

from crawler.parsers.text import clean

# trafilatura logs "discarding data" at WARNING for pages without main text; for us that is
# an ordinary outcome (the field stays empty), not something to print on every parse.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def generic_blocks(root, url: str | None = None, prune_xpath: list[str] | None = None) -> list[str]:
    try:
        text = trafilatura.extract(
            root,
            url=url,
            fast=True,
            include_comments=False,
            include_tables=False,
            output_format="txt",
            prune_xpath=prune_xpath or None,
        )
    except Exception:  # noqa: BLE001 - a third-party extractor must never crash a parse
        return []
    if not text:
        return []
    return [line for line in (clean(raw) for raw in text.split("\n")) if line]
