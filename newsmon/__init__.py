"""The newsmon application: what uses both the crawler (the Scrapy project and the parsers) and
the archive (storage) — the `newsmon` CLI (`cli/`), the crawl daemon (`scheduler.py`) and the
in-process crawl runner (`crawl.py`). Neither `crawler` nor `storage` imports this package."""
