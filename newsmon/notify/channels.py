"""Delivering one message: the native webhook (an HTTP POST of JSON) or Apprise (every other
URL scheme). Each returns a Result; nothing here touches the archive."""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from newsmon.notify import messages
from newsmon.notify.subscriptions import Subscription

MAX_REDIRECTS = 3


@dataclass(frozen=True)
class Result:
    ok: bool
    error: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait (429/503)


def is_private_host(host: str) -> bool:
    """Whether `host` is, or resolves to, a loopback, private, link-local or otherwise
    non-public address (a name that does not resolve counts as private: refuse rather than
    guess)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return True
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return True
    return False


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows a few redirects, but never from a public URL to a private address (the
    webhook URL is configuration; where it redirects to is the receiver's choice)."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, origin_private: bool):
        self.origin_private = origin_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urlsplit(newurl)
        if target.scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, f"redirect to {target.scheme}: refused",
                                         headers, fp)
        if not self.origin_private and is_private_host(target.hostname or ""):
            raise urllib.error.HTTPError(newurl, code, "redirect to a private address refused",
                                         headers, fp)
        # urllib turns a redirected POST into a GET without body; keep the POST (307/308
        # semantics) so the receiver at the new address gets the event.
        new = urllib.request.Request(newurl, data=req.data, headers=dict(req.header_items()),
                                     method="POST")
        return new


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def post_webhook(subscription: Subscription, event: dict, public_url: str | None) -> Result:
    return _post(subscription, messages.webhook_document(event, public_url))


def _post(subscription: Subscription, document: dict) -> Result:
    """POST `document` as JSON, with its id as X-Newsmon-Event and the HMAC when signed."""
    body = messages.to_json(document)
    headers = {"Content-Type": "application/json", "User-Agent": "newsmon-notify",
               "X-Newsmon-Event": document["id"]}
    if subscription.secret:
        headers["X-Newsmon-Signature"] = messages.signature(subscription.secret, body)
    host = urlsplit(subscription.url).hostname or ""
    opener = urllib.request.build_opener(_Redirects(is_private_host(host)))
    request = urllib.request.Request(subscription.url, data=body, headers=headers,
                                     method="POST")
    try:
        with opener.open(request, timeout=subscription.timeout) as response:
            response.read(65536)
        return Result(True)
    except urllib.error.HTTPError as exc:
        retry = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        return Result(False, f"HTTP {exc.code} {exc.reason}", retry)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Result(False, f"{type(reason).__name__}: {reason}")


def _is_mail(subscription: Subscription) -> bool:
    return subscription.url.startswith(("mailto:", "mailtos:"))


def send_apprise(subscription: Subscription, event: dict, public_url: str | None) -> Result:
    def body(limit):
        if subscription.template is not None:
            return messages.render_template(subscription.template, event, public_url), False
        if _is_mail(subscription):
            return messages.html_body(event, public_url), True
        return messages.text_body(event, public_url, limit), False
    return _notify(subscription, messages.title(event), body)


def _notify(subscription: Subscription, title: str, body) -> Result:
    """Send through Apprise: `body(limit)` gives the text for the service's length limit and
    whether it is HTML."""
    import apprise

    service = apprise.Apprise.instantiate(subscription.url)
    if service is None:
        return Result(False, "URL not understood by Apprise")
    text, html = body(getattr(service, "body_maxlen", None) or None)
    fmt = apprise.NotifyFormat.HTML if html else apprise.NotifyFormat.TEXT
    title_limit = getattr(service, "title_maxlen", None)
    if title_limit and len(title) > title_limit:
        title = title[:title_limit - 1] + "…"
    notifier = apprise.Apprise()
    notifier.add(service)
    if notifier.notify(title=title, body=text, body_format=fmt):
        return Result(True)
    return Result(False, f"{subscription.url.split(':', 1)[0]}: delivery failed "
                         "(see the log for Apprise's reason)")


def deliver(subscription: Subscription, event: dict, public_url: str | None = None) -> Result:
    if subscription.is_webhook:
        return post_webhook(subscription, event, public_url)
    return send_apprise(subscription, event, public_url)


def deliver_digest(subscription: Subscription, events: list[dict],
                   public_url: str | None = None) -> Result:
    """Several events as one message: a JSON document listing them (webhook), or one title
    and a body listing the changes (Apprise; a template is rendered per event)."""
    if subscription.is_webhook:
        return _post(subscription, messages.digest_document(subscription.name, events,
                                                            public_url))

    def body(limit):
        if subscription.template is not None:
            return "\n\n".join(messages.render_template(subscription.template, event,
                                                         public_url) for event in events), False
        if _is_mail(subscription):
            return messages.digest_html(events, public_url), True
        return messages.digest_text(events, public_url, limit), False
    return _notify(subscription, messages.digest_title(events), body)
