"""newsmon.logpolicy on real log records: an expected network failure becomes one WARNING
line with its URL, a bug keeps its traceback, -v keeps everything."""

from __future__ import annotations

import io
import logging

import pytest
from scrapy import Request
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError

from newsmon.logpolicy import NetworkFailureFilter


def _log(threshold: int, exc: BaseException) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(threshold)
    handler.addFilter(NetworkFailureFilter(threshold))
    logger = logging.getLogger("test.logpolicy")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise exc
        except type(exc):
            logger.error("Error downloading %(request)s: %(f_exception)s",
                         {"request": Request("https://example.org/a"), "f_exception": exc},
                         exc_info=True)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


@pytest.mark.parametrize(("exc", "reason"), [
    (DownloadTimeoutError("Getting https://example.org/a took longer than 30 seconds."),
     "timed out"),
    (CannotResolveHostError("DNS lookup failed: no results for hostname lookup: x."),
     "DNS lookup failed"),
])
def test_network_failure_is_one_line(exc, reason):
    assert _log(logging.WARNING, exc) == f"https://example.org/a: {reason}\n"
    assert "Traceback" in _log(logging.INFO, exc)  # -v: Scrapy's line and its traceback


def test_a_bug_keeps_its_traceback():
    text = _log(logging.WARNING, KeyError("title"))
    assert "Traceback" in text and "KeyError" in text
