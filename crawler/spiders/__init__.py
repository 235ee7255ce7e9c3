"""Spiders navigate only: discovery and re-checks. Parsing is crawler.parsers' job,
storage is the pipeline's."""
