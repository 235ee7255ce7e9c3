"""Generic main-text extraction: the body fallback when no configured body container matches
(a redesign, or the `generic` profile). trafilatura is the best measured peer
(docs/extraction-peers.md). It gets the page's text and builds its own tree, which it
then prunes and rewrites; our tree stays untouched.

trafilatura is imported on first use: with its own dependencies (htmldate, courlan, justext,
its settings) it costs about 0.3 s, paid by every crawl process and every CLI command that
imports the parser, while this fallback runs on few pages or none."""

from __future__ import annotations

import logging

from lxml import etree

from crawler.parsers.text import element_text

# Elements of trafilatura's XML output that are one body block each.
_BLOCKS = frozenset({"p", "head", "item", "quote"})

# trafilatura logs "discarding data" (WARNING) and "empty HTML tree" (ERROR) for pages without
# main text; for us that is an ordinary outcome (the body stays empty, and a page with nothing
# at all is a ParseError with its own clear message), not something to print on every parse.
# Set before trafilatura is imported: its loggers are children of this one.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def generic_blocks(
    html: str, url: str | None = None, prune_xpath: list[str] | None = None
) -> list[str]:
    import trafilatura

    try:
        text = trafilatura.extract(
            html,
            url=url,
            fast=False,  # its fallback extractors rescue div-only bodies; this path is rare
            include_comments=False,
            include_tables=False,
            # XML rather than txt: blocks stay apart and list items carry no "- " prefix, which
            # would be indistinguishable from the dash that opens a speech paragraph.
            output_format="xml",
            prune_xpath=prune_xpath or None,
        )
    except Exception:  # noqa: BLE001 - a third-party extractor must never crash a parse
        return []
    if not text:
        return []
    try:
        doc = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError:
        return []
    main = doc.find("main")
    blocks: list[str] = []
    for el in (main if main is not None else doc).iter(*_BLOCKS):
        # A block inside another block (an item holding a p) is emitted with its parent.
        if el.getparent() is not None and el.getparent().tag in _BLOCKS:
            continue
        block = element_text(el)
        if block:
            blocks.append(block)
    return blocks
