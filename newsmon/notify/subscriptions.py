"""Subscriptions: the `[[notify]]` tables of newsmon.toml, checked once at startup.

Every string value may name environment variables as `${VAR}` (secrets stay out of files and
out of the archive). A subscription with a problem (unknown key or event type, malformed URL,
missing variable, bad template or cron) is reported by name and left out; the others and the
crawl go on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage.events import CONTENT_EVENTS, EVENT_TYPES
from storage.query.errors import QueryError
from storage.query.language import And, Or, Phrase, parse_query
from storage.textfold import fold_words

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
KEYS = {"name", "url", "events", "sites", "sections", "authors", "query", "min_body_change",
        "paywall_threshold", "mode", "cron", "timezone", "template", "secret", "bootstrap",
        "timeout"}
DEFAULT_TIMEZONE = "Europe/Warsaw"


class SubscriptionError(ValueError):
    """One subscription's configuration is unusable; the message names it."""


@dataclass(frozen=True)
class Subscription:
    name: str
    url: str
    events: tuple[str, ...] = CONTENT_EVENTS
    sites: tuple[str, ...] = ()  # site profile names; empty: every site
    sections: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    query: str | None = None
    min_body_change: float | None = None  # share of the body's words (0..1)
    paywall_threshold: int | None = None  # percent
    mode: str = "immediate"
    cron: str | None = None  # digest mode: when the digest goes out, in `timezone`
    timezone: str = DEFAULT_TIMEZONE
    template: str | None = None  # a Jinja2 file's text, overriding the message body
    secret: str | None = field(default=None, repr=False)
    bootstrap: bool = False
    timeout: float = 10.0
    query_tree: Any = field(default=None, repr=False, compare=False)

    @property
    def is_webhook(self) -> bool:
        return urlsplit(self.url).scheme in ("http", "https")

    def cron_trigger(self):
        """The digest's APScheduler trigger (digest mode only)."""
        from zoneinfo import ZoneInfo

        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether `event` (storage.outbox's event dict) is one this subscription wants."""
        if event["type"] not in self.events:
            return False
        article = event.get("article")
        site = (article or {}).get("site") or (event.get("payload") or {}).get("site")
        if self.sites and site not in self.sites:
            return False
        if article is None:  # operational events: no article filters apply
            return True
        if self.sections and _fold(article.get("section")) not in map(_fold, self.sections):
            return False
        if self.authors and not set(map(_fold, article.get("authors") or [])) & set(
                map(_fold, self.authors)):
            return False
        payload = event.get("payload") or {}
        if (self.min_body_change is not None and event["type"] == "body_changed"
                and payload.get("body_share", 0) < self.min_body_change):
            return False
        if self.paywall_threshold is not None and event["type"] == "paywall_changed":
            if not _crosses(payload, self.paywall_threshold):
                return False
        if self.query_tree is not None:
            text = " ".join(filter(None, (article.get("title"), article.get("lead"),
                                          article.get("body"))))
            if not query_matches(self.query_tree, fold_words(text)):
                return False
        return True


def _fold(text: str | None) -> str:
    return " ".join(fold_words(text))


def _crosses(payload: dict[str, Any], threshold: int) -> bool:
    """The paywalled share went from below `threshold` to at or above it, or back."""
    def share(side):
        value = (payload.get(side) or {})
        return value.get("percent") or (100 if value.get("paywalled") else 0)
    return (share("old") >= threshold) != (share("new") >= threshold)


def query_matches(tree, words: list[str]) -> bool:
    """The search language's tree (storage.query.language) matched against folded words:
    the meaning the full-text search gives it, for one document in memory."""
    if isinstance(tree, Phrase):
        n = len(tree.words)
        for i in range(len(words) - n + 1):
            window = words[i:i + n]
            if window[:-1] == list(tree.words[:-1]) and (
                    window[-1].startswith(tree.words[-1]) if tree.prefix
                    else window[-1] == tree.words[-1]):
                return True
        return False
    if isinstance(tree, Or):
        return any(query_matches(node, words) for node in tree.options)
    if isinstance(tree, And):
        return (all(query_matches(node, words) for node in tree.positive)
                and not any(query_matches(node, words) for node in tree.negative))
    return False


def expand(value: Any, env: Mapping[str, str], name: str) -> Any:
    """`${VAR}` in strings (also inside lists) replaced from `env`; a missing one is an error."""
    if isinstance(value, list):
        return [expand(item, env, name) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        variable = match.group(1)
        if not env.get(variable):
            raise SubscriptionError(
                f"subscription {name!r}: environment variable {variable} is not set")
        return env[variable]
    return _VAR.sub(one, value)


def _strings(value: Any, key: str, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SubscriptionError(f"subscription {name!r}: {key} must be a list of strings")
    return tuple(value)


def parse_subscription(table: Mapping[str, Any], env: Mapping[str, str],
                       base: Path | None = None,
                       timezone: str = DEFAULT_TIMEZONE) -> Subscription:
    """One `[[notify]]` table as a Subscription; SubscriptionError naming it when unusable."""
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SubscriptionError(f"a [[notify]] subscription has no name (url {table.get('url')!r})")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise SubscriptionError(f"subscription {name!r}: unknown key(s) {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(KEYS))})")
    values = {key: expand(value, env, name) for key, value in table.items()}
    url = values.get("url")
    if not isinstance(url, str) or not url:
        raise SubscriptionError(f"subscription {name!r}: url is missing")
    _check_url(name, url)
    events = _strings(values.get("events", list(CONTENT_EVENTS)), "events", name)
    bad = [kind for kind in events if kind not in EVENT_TYPES]
    if bad:
        raise SubscriptionError(f"subscription {name!r}: unknown event type(s) "
                                f"{', '.join(bad)} (known: {', '.join(EVENT_TYPES)})")
    options: dict[str, Any] = {"name": name, "url": url, "events": events,
                               "sites": _strings(values.get("sites", []), "sites", name),
                               "sections": _strings(values.get("sections", []), "sections", name),
                               "authors": _strings(values.get("authors", []), "authors", name)}
    if values.get("query") is not None:
        try:
            options["query_tree"] = parse_query(values["query"])
        except QueryError as exc:
            raise SubscriptionError(f"subscription {name!r}: query: {exc}") from None
        options["query"] = values["query"]
    share = values.get("min_body_change")
    if share is not None:
        if not isinstance(share, int | float) or not 0 <= share <= 1:
            raise SubscriptionError(
                f"subscription {name!r}: min_body_change must be a share between 0 and 1")
        options["min_body_change"] = float(share)
    threshold = values.get("paywall_threshold")
    if threshold is not None:
        if not isinstance(threshold, int) or not 0 < threshold <= 100:
            raise SubscriptionError(
                f"subscription {name!r}: paywall_threshold must be a percentage 1..100")
        options["paywall_threshold"] = threshold
    mode = values.get("mode", "immediate")
    if mode not in ("immediate", "digest"):
        raise SubscriptionError(f"subscription {name!r}: mode must be immediate or digest")
    options["mode"] = mode
    if mode == "digest":
        options["timezone"] = _check_timezone(name, values.get("timezone", timezone))
        options["cron"] = _check_cron(name, values.get("cron"))
    if values.get("template") is not None:
        options["template"] = _check_template(name, values["template"], base)
    for key, kind in (("secret", str), ("bootstrap", bool), ("timeout", int | float)):
        if key in values:
            if not isinstance(values[key], kind):
                raise SubscriptionError(f"subscription {name!r}: {key} has the wrong type")
            options[key] = values[key]
    return Subscription(**options)


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise SubscriptionError(f"subscription {name!r}: malformed webhook URL {url!r}")
        return
    import apprise  # only when a subscription needs it: importing it takes a while

    if not parts.scheme or apprise.Apprise.instantiate(url) is None:
        raise SubscriptionError(
            f"subscription {name!r}: URL not understood by Apprise (scheme {parts.scheme!r})")


def _check_cron(name: str, cron: Any) -> str:
    from apscheduler.triggers.cron import CronTrigger

    if not isinstance(cron, str):
        raise SubscriptionError(f"subscription {name!r}: mode digest needs a cron expression")
    try:
        CronTrigger.from_crontab(cron)
    except ValueError as exc:
        raise SubscriptionError(f"subscription {name!r}: cron {cron!r}: {exc}") from None
    return cron


def _check_timezone(name: str, zone: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        raise SubscriptionError(f"subscription {name!r}: unknown time zone {zone!r}") from None
    return zone


def _check_template(name: str, path: str, base: Path | None) -> str:
    import jinja2

    file = Path(path) if base is None else base / path
    try:
        text = file.read_text(encoding="utf-8")
        jinja2.Environment(autoescape=True).from_string(text)
    except OSError as exc:
        raise SubscriptionError(f"subscription {name!r}: template {path}: {exc.strerror}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise SubscriptionError(
            f"subscription {name!r}: template {path} line {exc.lineno}: {exc.message}") from None
    return text


def parse_subscriptions(tables: Any, env: Mapping[str, str] | None = None,
                        base: Path | None = None, timezone: str = DEFAULT_TIMEZONE,
                        ) -> tuple[list[Subscription], list[str]]:
    """The usable subscriptions of a `notify` array and one error line per unusable one;
    digests' cron times are in `timezone` unless a subscription names its own."""
    env = os.environ if env is None else env
    if tables is None:
        return [], []
    if not isinstance(tables, list):
        return [], ["[[notify]] must be an array of tables"]
    subscriptions, errors, names = [], [], set()
    for table in tables:
        try:
            if not isinstance(table, Mapping):
                raise SubscriptionError("a [[notify]] entry is not a table")
            subscription = parse_subscription(table, env, base, timezone)
            if subscription.name in names:
                raise SubscriptionError(f"subscription {subscription.name!r} is defined twice")
        except SubscriptionError as exc:
            errors.append(str(exc))
            continue
        names.add(subscription.name)
        subscriptions.append(subscription)
    return subscriptions, errors


def load_subscriptions() -> tuple[list[Subscription], list[str]]:
    """The subscriptions of this process's configuration (crawler.config's layers); template
    paths are relative to the working directory, digests follow [schedule].timezone."""
    from crawler.config import load_config

    config = load_config()
    zone = (config.get("schedule") or {}).get("timezone") or DEFAULT_TIMEZONE
    return parse_subscriptions(config.get("notify"), timezone=zone)

