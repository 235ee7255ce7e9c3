"""What the logs show at each verbosity, in one place.

Levels: `-q` errors only, default warnings, `-v` Scrapy's INFO, `-vv` DEBUG. At the default
level and below, an expected network failure (DNS, refused, timeout, TLS, lost connection,
robots.txt unreachable) is one WARNING line with the URL and the reason: Scrapy's middlewares
log those as ERROR with a traceback of its own internals (about 60 lines for a refused
robots.txt), which tells the operator nothing the one line does not. Failures of article and
discovery requests are reported by the spider's errbacks (crawler/spiders/site.py), so the
retry middleware's "Gave up retrying" line for them is shown from `-v` on. Any other exception
(a bug) keeps its traceback. The filter is installed on the root handlers by a Scrapy
extension (LogPolicy), so `scrapy crawl` and Scrapyd jobs follow the same policy."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

QUIET, DEFAULT, VERBOSE, DEBUG = -1, 0, 1, 2


def level_for(verbosity: int) -> int:
    """The root log level for `-q` (-1), nothing (0), `-v` (1), `-vv` and more."""
    if verbosity < 0:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


def _expected_classes() -> tuple[type[BaseException], ...]:
    from scrapy import exceptions as sx
    from twisted.internet import error as tx
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    classes = [sx.DownloadConnectionRefusedError, sx.CannotResolveHostError,
               sx.DownloadTimeoutError, sx.DownloadFailedError, sx.ResponseDataLossError,
               tx.ConnectError, tx.TimeoutError, tx.ConnectionLost, tx.ConnectionDone,
               ResponseFailed, ResponseNeverReceived, TimeoutError, ConnectionError]
    try:
        from OpenSSL.SSL import Error as TLSError
        classes.append(TLSError)
    except ImportError:  # pragma: no cover - pyOpenSSL comes with Scrapy
        pass
    return tuple(classes)


def network_reason(exc: BaseException | str) -> str | None:
    """A short reason when `exc` (or an exception it was raised from) is an expected network
    failure; None for anything else, which is a bug worth its traceback."""
    if isinstance(exc, str):
        return None
    expected = _expected_classes()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, expected):
            return _reason(current)
        current = current.__cause__ or current.__context__
    return None


def _reason(exc: BaseException) -> str:
    name = type(exc).__name__
    text = " ".join(str(exc).split()) or name
    lowered = f"{name} {text}".lower()
    for needle, label in (("refused", "connection refused"), ("dns", "DNS lookup failed"),
                          ("resolve", "DNS lookup failed"), ("timeout", "timed out"),
                          ("timed out", "timed out"), ("ssl", "TLS error"),
                          ("tls", "TLS error"), ("certificate", "TLS error")):
        if needle in lowered:
            return f"{label} ({text[:160]})" if label == "TLS error" else label
    return f"connection failed ({text[:160]})"


def _request_url(record: logging.LogRecord) -> str | None:
    args = record.args
    request = args.get("request") if isinstance(args, dict) else None
    return getattr(request, "url", None)


class NetworkFailureFilter(logging.Filter):
    """Rewrites expected network failures as one WARNING line (see the module's docstring).
    `threshold`: the handler's level; at INFO and below records pass untouched."""

    def __init__(self, threshold: int):
        super().__init__()
        self.threshold = threshold
        self._robots_reported: set[str] = set()  # scheme://host whose robots.txt failed

    def filter(self, record: logging.LogRecord) -> bool:
        if self.threshold <= logging.INFO or record.levelno < logging.WARNING:
            return True
        # A rewritten line is a WARNING: shown unless the handler is at ERROR (-q).
        return self._keep(record) and record.levelno >= self.threshold

    def _keep(self, record: logging.LogRecord) -> bool:
        url = _request_url(record)
        if record.msg.__class__ is str and record.msg.startswith("Gave up retrying") and url:
            reason = record.args.get("reason")
            if urlsplit(url).path != "/robots.txt":
                return False  # the spider's errback reports this request in one line
            text = network_reason(reason) or str(reason)
            return self._robots(record, url, f"{text} (after {record.args['retry_times']} "
                                             "attempts)")
        exc = record.exc_info[1] if record.exc_info else None
        reason = network_reason(exc) if exc is not None else None
        if reason is None or url is None:
            return True
        if record.name.endswith("robotstxt"):
            return self._robots(record, url, reason)
        return _rewrite(record, f"{url}: {reason}")

    def _robots(self, record: logging.LogRecord, url: str, reason: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self._robots_reported:
            return False
        self._robots_reported.add(origin)
        return _rewrite(record, f"{origin}/robots.txt unreachable: {reason}")


def _rewrite(record: logging.LogRecord, message: str) -> bool:
    record.msg, record.args = message, ()
    record.levelno, record.levelname = logging.WARNING, "WARNING"
    record.exc_info, record.exc_text = None, None
    return True


class LogPolicy:
    """Scrapy extension: the filter on the root handlers at the crawl's LOG_LEVEL, once the
    spider opens (Scrapy replaces its root handler while the crawl starts)."""

    def __init__(self, level: str):
        self.level = level

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy import signals

        ext = cls(crawler.settings.get("LOG_LEVEL", "WARNING"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self, spider) -> None:
        install(self.level)


def install(threshold: int | str) -> None:
    if isinstance(threshold, str):
        threshold = logging.getLevelName(threshold.upper())
        threshold = threshold if isinstance(threshold, int) else logging.WARNING
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, NetworkFailureFilter) for f in handler.filters):
            handler.addFilter(NetworkFailureFilter(threshold))
