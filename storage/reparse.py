"""Re-parsing's write primitives: correcting an article's versions with records re-derived
from their raw pages, and re-deciding fetches held back as suspect. The parsing itself is the
caller's (newsmon/reparse.py: storage never imports the parser); here records come in as
plain dicts, as from a crawl, with `parser_fingerprint` set.

`correct_chain` works on one article, with its row locked (SELECT ... FOR UPDATE on
PostgreSQL; on SQLite the write transaction is BEGIN IMMEDIATE), inside the caller's
transaction, so a crawl writing the same article waits or goes first, and nothing of an
article is ever half-corrected:

- a version whose re-derived record differs from its stored one gets the new record; the
  old one (with its hash, changed fields, summary and fingerprint) goes to
  `superseded_records`, with the job and the reason. Raw pages are never touched;
- a version whose record is the same but that came from other parser settings only gets the
  new fingerprint (and parser_version);
- then the chain is walked again: a version whose content hash now equals the version
  before it (artefacts skipped) is marked `artefact` (kept, hidden from listings and diffs);
  from the first version that changed on, each version's changed_fields, change summary
  and content events are recomputed against its new predecessor, and rewritten where they
  differ. The full-text index follows by its triggers.

`resolve_held` re-decides one held fetch (suspect or parse failure) with a new record:
one that now passes the versioning rules becomes the article's next version through
versions.create_version, the one path a crawl uses; in fetch order, so it is refused when
the article already has a version fetched after it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import versioning
from storage.changes import change_summary
from storage.events import derive_events, event_key
from storage.fetches import _jsonable  # the record as JSON-safe data, as held fetches keep it
from storage.models import Article, ArticleVersion, ChangeEvent, FetchEvent, SupersededRecord
from storage.outbox import _writing_events as mark_event_writer
from storage.query.connection import reading
from storage.record import VERSION_FIELDS
from storage.types import utcnow
from storage.versions import (
    create_version,
    current_version,
    decide,
    stored_content,
    stored_values,
)

# The record's columns a re-parse compares (the URL is the archive's name for the article,
# parser_version and parser_fingerprint say where a record came from, not what it is).
RECORD_COLUMNS = tuple(n for n in VERSION_FIELDS if n not in ("url", "parser_version"))
PROVENANCE = ("parser_version", "parser_fingerprint")
_COMPARED = RECORD_COLUMNS + PROVENANCE
# What a superseded record keeps besides the record's fields.
DERIVED = ("content_hash", "changed_fields", "change_summary", "artefact")
EXAMPLES = 3  # examples kept per field for a report
HELD = ("suspect", "parse_failure")


@dataclass
class ChainResult:
    """What correcting one article did (or, in a dry run, would do)."""

    versions: int = 0  # versions given a new record to compare
    changed: int = 0  # records replaced (superseded)
    refreshed: int = 0  # same record, new fingerprint only
    unusable: list[tuple[int, str]] = field(default_factory=list)  # (version, why kept)
    fields: Counter = field(default_factory=Counter)  # field -> versions whose value changed
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    artefacts_marked: int = 0
    artefacts_cleared: int = 0
    derived_rewritten: int = 0  # versions whose changed_fields / summary were rewritten
    events_added: int = 0
    events_removed: int = 0
    events_updated: int = 0


def _lock_article(s: Session, article_id: int) -> Article:
    return s.scalars(select(Article).where(Article.id == article_id).with_for_update()).one()


def _example(article: Article, version: int, name: str, old: Any, new: Any) -> dict[str, Any]:
    def short(value: Any) -> Any:
        value = _jsonable(value)
        text = value if isinstance(value, str) else None
        return text[:160] + "…" if text and len(text) > 160 else value

    return {"article_id": article.article_id, "id": article.id, "version": version,
            "old": short(old), "new": short(new)}


@dataclass(frozen=True)
class Parsed:
    """A re-derived record made ready to compare (prepare(): pure, so a worker process does
    it): its normalised fields and hash, the columns a version stores for it, and which of
    title and body it lacks (then it is unusable: the stored record is kept)."""

    record: dict[str, Any]
    normalised: dict[str, Any]
    content_hash: str
    values: dict[str, Any]
    missing: tuple[str, ...] = ()


def prepare(record: dict[str, Any], url: str) -> Parsed:
    normalised = versioning.normalise(record)
    return Parsed(record, normalised, versioning.content_hash(normalised, normalised=True),
                  stored_values(normalised, record, url),
                  tuple(name for name in ("title", "body") if not normalised[name]))


def _differs(stored, parsed: Parsed) -> bool:
    return not parsed.missing and any(stored[n] != parsed.values[n] for n in _COMPARED)


def to_correct(archive, parsed: dict[int, Parsed]) -> set[int]:
    """The articles whose stored versions differ from `parsed` (version id -> Parsed), in
    their records or in the parser that made them, read without locks: only those need a
    correcting transaction (a re-parse that finds nothing to change writes nothing)."""
    found: set[int] = set()
    ids = list(parsed)
    columns = [ArticleVersion.id, ArticleVersion.article_id,
               *(getattr(ArticleVersion, n) for n in _COMPARED)]
    with reading(archive) as conn:
        for start in range(0, len(ids), 500):
            query = select(*columns).where(ArticleVersion.id.in_(ids[start:start + 500]))
            for row in conn.execute(query):
                if row.article_id not in found and _differs(row._mapping, parsed[row.id]):
                    found.add(row.article_id)
    return found


def correct_chain(s: Session, article_id: int, parsed: dict[int, Parsed], *,
                  job_id: int | None = None, reason: str = "re-parse") -> ChainResult:
    """Correct article `article_id`'s versions with `parsed` (version id -> the record the
    current parser derives from its raw page, with `parser_fingerprint`, made ready by
    prepare()), in the caller's transaction (module docstring). Versions not in `parsed`
    keep what they have."""
    result = ChainResult()
    article = _lock_article(s, article_id)
    versions = s.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                         .order_by(ArticleVersion.version)).all()
    replaced: dict[int, tuple[dict[str, Any], str]] = {}  # version id -> (normalised, hash)
    for version in versions:
        new = parsed.get(version.id)
        if new is None:
            continue
        result.versions += 1
        if new.missing:
            result.unusable.append((version.version,
                                    f"the new record has no {', '.join(new.missing)}"))
            continue
        values = new.values
        differing = [n for n in RECORD_COLUMNS if getattr(version, n) != values[n]]
        if differing:
            _supersede(s, article, version, job_id, reason, differing)
            for name in differing:
                result.fields[name] += 1
                kept = result.examples.setdefault(name, [])
                if len(kept) < EXAMPLES:
                    kept.append(_example(article, version.version, name,
                                         getattr(version, name), values[name]))
                setattr(version, name, values[name])
            version.content_hash = new.content_hash
            replaced[version.id] = (new.normalised, new.content_hash)
            result.changed += 1
        if any(getattr(version, n) != values[n] for n in PROVENANCE):
            result.refreshed += 0 if differing else 1
            for name in PROVENANCE:
                setattr(version, name, values[name])
    _rewalk(s, article, versions, replaced, result, job_id)
    s.flush()
    return result


def _supersede(s: Session, article: Article, version: ArticleVersion, job_id: int | None,
               reason: str, differing: list[str]) -> None:
    old = {name: _jsonable(getattr(version, name)) for name in (*VERSION_FIELDS, *DERIVED)}
    s.add(SupersededRecord(version_id=version.id, article_id=article.id,
                           version=version.version, record=old,
                           parser_fingerprint=version.parser_fingerprint, job_id=job_id,
                           superseded_at=utcnow(),
                           reason=f"{reason}: {', '.join(differing)}"))


def _rewalk(s: Session, article: Article, versions, replaced, result: ChainResult,
            job_id: int | None) -> None:
    """Artefact flags, changed_fields, summaries and events along the chain, from the first
    version whose content or artefact flag changed on (before it nothing moved)."""
    events = None  # the article's version events, loaded when first needed
    dirty = False
    previous = None  # the last version that is no artefact, and its hash
    last_change = None
    for version in versions:
        mine = replaced.get(version.id)
        digest = mine[1] if mine else version.content_hash
        artefact = previous is not None and digest == previous[1]
        dirty = dirty or mine is not None or artefact != version.artefact
        if dirty:
            content = mine[0] if mine else stored_content(version)
            before = None if previous is None else _content(previous[0], replaced)
            if artefact != version.artefact:
                result.artefacts_marked += artefact
                result.artefacts_cleared += not artefact
                version.artefact = artefact
            changed = versioning.changed_fields(before, content)
            summary = change_summary(before, content)
            if (version.changed_fields, version.change_summary) != (changed, summary):
                version.changed_fields, version.change_summary = changed, summary
                result.derived_rewritten += 1
            if events is None:
                events = _version_events(s, article.id)
            derived = [] if artefact else derive_events(before, content, summary)
            _sync_events(s, article, version, derived, events, result)
        if not artefact:
            previous, last_change = (version, digest), version
    if dirty and last_change is not None:
        article.last_changed = last_change.fetched_at
    current = versions[-1] if versions else None
    if current is not None and current.id in replaced:
        # Listings filter on the article's own copies of these (as a crawl sets them).
        if current.published_at is not None:
            article.published_at = current.published_at
        if current.section:
            article.section = current.section


def _content(version: ArticleVersion, replaced) -> dict[str, Any]:
    mine = replaced.get(version.id)
    return mine[0] if mine else stored_content(version)


def _version_events(s: Session, article_id: int) -> dict[str, ChangeEvent]:
    """The article's version events by key (status events, keyed by fetch, are not ours)."""
    prefix = f"a{article_id}:v"
    return {e.key: e for e in s.scalars(select(ChangeEvent)
                                        .where(ChangeEvent.article_id == article_id))
            if e.key.startswith(prefix)}


def _sync_events(s: Session, article: Article, version: ArticleVersion, derived, stored,
                 result: ChainResult) -> None:
    """Make the version's stored events those `derived`: payloads updated in place (same
    key, same id: a receiver deduplicating by key sees a correction as the same event),
    events no longer derived deleted (with their pending deliveries), new ones added at the
    version's own time."""
    prefix = f"a{article.id}:v{version.version}:"
    wanted = {event_key(e.type, article=article.id, version=version.version): e
              for e in derived}
    for key, row in [(k, r) for k, r in stored.items() if k.startswith(prefix)]:
        if key not in wanted:
            s.delete(row)
            del stored[key]
            result.events_removed += 1
        elif row.payload != wanted[key].payload:
            row.payload = wanted[key].payload
            result.events_updated += 1
    added = [(key, e) for key, e in wanted.items() if key not in stored]
    if added:
        mark_event_writer(s)
    for key, event in added:
        row = ChangeEvent(key=key, type=event.type, article_id=article.id,
                          version=version.version, occurred_at=version.fetched_at,
                          payload=event.payload)
        s.add(row)
        stored[key] = row
        result.events_added += 1


# -- held fetches -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldResult:
    """What became of one held fetch: "new_article" / "new_version" (it is that version
    now), "unchanged" (equal to the version before it), "held" (still suspect, `reason` the
    new one), "skipped" (not a held fetch any more, or out of order)."""

    kind: str
    version: int | None = None
    reason: str | None = None
    changed_fields: tuple[str, ...] = ()


def resolve_held(s: Session, event_id: int, record: dict[str, Any] | None,
                 problem: str | None, *, job_id: int | None = None,
                 max_body_shrink: float = versioning.DEFAULT_MAX_BODY_SHRINK) -> HeldResult:
    """Re-decide the held fetch `event_id` with `record` (the current parser's, or None with
    `problem` saying why there is none; `problem` with a record: the page failed the
    crawl's validation again), in the caller's transaction (module docstring)."""
    event = s.get(FetchEvent, event_id, with_for_update=True)
    if event is None or event.outcome not in HELD or event.version is not None:
        return HeldResult("skipped", reason="no longer held (accepted or resolved meanwhile)")
    if event.article_id is None:
        return HeldResult("skipped", reason="the fetch names no known article")
    article = _lock_article(s, event.article_id)
    current = current_version(s, article)
    tag = f"re-parse job {job_id}" if job_id is not None else "re-parse"
    if current is not None and current.fetched_at > event.fetched_at:
        return HeldResult("skipped", reason=f"the article has version {current.version}, "
                                            "fetched after this page")
    if record is None or problem:
        return _still_held(event, record, problem or "no record", tag)
    decision = decide(record, current, max_body_shrink=max_body_shrink)
    if decision.kind in ("new_article", "new_version"):
        number = create_version(s, article, current, decision, record, url=event.url,
                                raw_sha=event.raw_page_sha, fetched_at=event.fetched_at)
        published = versioning.parse_instant(decision.normalised["published_at"])
        if published is not None:
            article.published_at = published
        if decision.normalised["section"]:
            article.section = decision.normalised["section"]
        _resolved(event, number, f"{tag}: now version {number}")
        return HeldResult(decision.kind, number, changed_fields=tuple(decision.changed_fields))
    if decision.kind == "unchanged":
        _resolved(event, current.version, f"{tag}: same content as version {current.version}")
        return HeldResult("unchanged", current.version, decision.reason)
    return _still_held(event, record, decision.reason or decision.kind, tag)


def _resolved(event: FetchEvent, version: int, note: str) -> None:
    event.version = version  # no longer held: `runs --suspects` shows it as resolved
    event.message = f"{event.message}; {note}" if event.message else note


def _still_held(event: FetchEvent, record: dict[str, Any] | None, reason: str,
                tag: str) -> HeldResult:
    """Still held: the new reason (and record, which accept-suspect would take) replace the
    old ones."""
    event.message = f"{reason} ({tag})"
    if record is not None:
        event.record = _jsonable(record)
    return HeldResult("held", reason=reason)
