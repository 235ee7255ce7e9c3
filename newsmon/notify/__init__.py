"""Alerts: subscriptions (`[[notify]]` in newsmon.toml), the messages they get, and the sender
that delivers the archive's outbox (storage/outbox.py) through webhooks and Apprise."""
