"""When is a fetched page a new version? Pure functions over plain record dicts.

A record (the parser's `ArticleRecord.to_dict()`) is first normalised, so that whitespace,
Unicode composition and time-zone spelling never count as edits. Only the *hashed fields* below
decide whether content changed; page furniture (`sources`, `word_count`, the URL, block ids,
fetch metadata) does not.

`classify()` then applies the archive's rules, in this order:

1. title or body missing -> `parse_failure` (the parser lost the page, not the site the text);
2. no current version -> `new_article` (version 1, changed_fields ["*"]);
3. same hash as the current version -> `unchanged`;
4. a preview (body_complete False) after a full copy, whose body is a prefix of the stored body
   and whose other fields are equal (paywall markers and the related cards of the hidden part
   aside) -> `unchanged` (same article behind a paywall, not an edit; fixtures
   replica-meter-2025-jeszcze and its -preview-only twin);
5. body shrinking by more than `max_body_shrink` with no paywall change -> `suspect` (the
   reason also lists what rule 6 finds, so that every field involved is named);
6. layout drift -> `suspect`, held until someone confirms it (`Archive.accept_suspect`). The
   fields that differ are checked one by one, the image part by part (`image.url`,
   `image.caption`, `image.credit`: a caption can be lost while the photo stays):
   a. a value present in the current version and absent now (None or [], whatever its source)
      is drift unless the page's structure is provably intact. The rule: the current version
      and the new record both carry a layout signature (`sources["layout"]`: "field:selector"
      for every profile selector that matched, see crawler/parsers/article.py) and every entry
      in which they differ belongs to a field whose value changed. An editor who drops an
      author or takes the photo out moves only the byline's or the image's own selectors (or
      none: one author of three), so that is a version (unless the parser puts a weaker value
      in its place, e.g. og:image for the photo: rule b); a redesign also moves the selectors
      of fields whose values survived through fallbacks (title from JSON-LD, the article
      frame "page:scope"). Without a signature on either side (versions stored before signatures
      existed, records not made by the parser) nothing is proven and the value is held.
      Limits: a rename confined to the vanished field's own selectors (only the caption's
      class) looks exactly like a removal and becomes a version; and the signature compared
      is the current version's, so after a layout change that altered no value, vanished
      values are held until a version with the new layout exists;
   b. a value that changed in any other way while its source fell from the site's own markup
      (`selector`/`visible`) to anything weaker (`jsonld`, `meta`, `pattern`, `fallback`, or
      no source) is drift. After the replica's redesign the parser reads title, lead and
      authors from JSON-LD, image from meta, paywall_percent from a pattern — never
      "fallback" — and those values differ (SEO title...), so a fallback-only rule would
      record the redesign as an edit;
7. otherwise -> `new_version`, with the names of the fields that differ.

Changing `normalise()` or `HASHED_FIELDS` changes hashes: do it only together with a migration
that recomputes `article_versions.content_hash`, or every article gets a spurious version.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Fields whose change makes a new version, in the order changed_fields lists them.
HASHED_FIELDS = (
    "title",
    "lead",
    "body",
    "authors",
    "published_at",
    "updated_at",
    "section",
    "tags",
    "image",  # url, caption, credit
    "related",
    "paywalled",
    "paywall_percent",
)
# Not hashed (a preview and the full copy of one text are the same content) but reported in
# changed_fields when it differs along with a hashed field.
REPORTED_FIELDS = HASHED_FIELDS + ("body_complete",)
FIRST_VERSION_CHANGED = ["*"]

# Sources a parser reports for values read from the page's intended markup (see
# crawler/parsers: sources{field: signal}); anything else is a weaker signal.
TRUSTED_SOURCES = frozenset({"selector", "visible"})
# The key of `sources` holding the layout signature: a list of "field:selector" entries.
LAYOUT_KEY = "layout"
IMAGE_PARTS = ("url", "caption", "credit")

DEFAULT_MAX_BODY_SHRINK = 0.5

_SPACE = re.compile(r"\s+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v\u00a0\u2028\u2029]*\n\s*")
# Invisible characters that CMSs sprinkle into text: zero-width space/joiners, BOM, soft hyphen.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))
_HAS_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")


def _visible_nfc(value: Any) -> str:
    text = unicodedata.normalize("NFC", str(value))
    # translate() looks every character up in a dict: a body's worth of CPU, so only when
    # there is something to drop.
    return text.translate(_INVISIBLE) if _HAS_INVISIBLE.search(text) else text


def normalise_text(value: Any) -> str | None:
    """NFC, invisible characters dropped, runs of whitespace as one space; '' -> None."""
    if value is None:
        return None
    return _SPACE.sub(" ", _visible_nfc(value)).strip() or None


def normalise_body(value: Any) -> str | None:
    """Like normalise_text, but paragraph breaks (a blank line) are kept, as one blank line."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value))
    if _HAS_INVISIBLE.search(text):
        # A dropped character may have parted a letter from its accent: composed again.
        text = unicodedata.normalize("NFC", text.translate(_INVISIBLE))
    # Paragraphs of NFC text split at line breaks are NFC already: only spaces to squeeze.
    paragraphs = (_SPACE.sub(" ", p).strip() for p in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p) or None


def parse_instant(value: Any) -> datetime | None:
    """An ISO 8601 string or datetime as an aware UTC datetime. A value without an offset is
    taken as UTC; an unparseable one gives None (the caller decides whether that matters)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _instant_text(value: Any) -> str | None:
    dt = parse_instant(value)
    if dt is not None:
        return dt.isoformat().replace("+00:00", "Z")
    # Keep something unparseable visible to the hash rather than silently equal to "absent".
    return normalise_text(value)


def _text_list(values: Any) -> list[str]:
    """Order kept (it is visible on the page), blanks and exact repeats dropped."""
    seen: list[str] = []
    for value in values or []:
        text = normalise_text(value)
        if text and text not in seen:
            seen.append(text)
    return seen


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _image(value: Any) -> dict[str, str | None] | None:
    if not value:
        return None
    image = {
        "url": normalise_text(_get(value, "url")),
        "caption": normalise_text(_get(value, "caption")),
        "credit": normalise_text(_get(value, "credit")),
    }
    return image if any(image.values()) else None


def _related(values: Any) -> list[dict[str, str | None]]:
    out = []
    for item in values or []:
        link = {
            "title": normalise_text(_get(item, "title")),
            "url": normalise_text(_get(item, "url")),
        }
        if (link["title"] or link["url"]) and link not in out:
            out.append(link)
    return out


def _percent(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(round(float(value)))
    except (TypeError, ValueError):
        return None


# How each hashed field is normalised (a field of HASHED_FIELDS missing here fails loudly).
_NORMALISERS = {
    "title": normalise_text, "lead": normalise_text, "body": normalise_body,
    "authors": _text_list, "published_at": _instant_text, "updated_at": _instant_text,
    "section": normalise_text, "tags": _text_list, "image": _image, "related": _related,
    "paywalled": bool, "paywall_percent": _percent,
}


def normalise(record: dict[str, Any]) -> dict[str, Any]:
    """The hashed fields of `record`, normalised, plus `body_complete`. Dates become UTC ISO
    strings ending in "Z". Pure: the input is not modified."""
    norm = {name: _NORMALISERS[name](record.get(name)) for name in HASHED_FIELDS}
    norm["body_complete"] = record.get("body_complete") is not False
    return norm


def content_hash(record: dict[str, Any], *, normalised: bool = False) -> str:
    """sha256 (hex) of the normalised hashed fields. Pass `normalised=True` when `record` is
    already the output of normalise() (e.g. rebuilt from a stored version)."""
    norm = record if normalised else normalise(record)
    payload = {name: norm.get(name) for name in HASHED_FIELDS}
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def changed_fields(prev: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Names of the reported fields that differ between two *normalised* records, in
    REPORTED_FIELDS order; ["*"] when there is no previous version."""
    if prev is None:
        return list(FIRST_VERSION_CHANGED)
    return [name for name in REPORTED_FIELDS if prev.get(name) != new.get(name)]


def _squash(text: str | None) -> str:
    """Text with all whitespace removed, for "same visible prefix" comparisons."""
    return _SPACE.sub("", text or "")


def is_preview_of(current: dict[str, Any], new: dict[str, Any]) -> bool:
    """`new` is a paywall preview of the full text in `current`: new is incomplete, current is
    complete, new's body is a prefix of current's (modulo whitespace), all else is equal."""
    if new.get("body_complete") or not current.get("body_complete"):
        return False
    new_body, cur_body = _squash(new.get("body")), _squash(current.get("body"))
    if not new_body or not cur_body.startswith(new_body):
        return False
    # Paywall markers legitimately differ between the two views of one text, and the
    # read-more cards of the hidden part are missing from the preview.
    ignored = {"body", "body_complete", "paywalled", "paywall_percent", "related"}
    return all(current.get(f) == new.get(f) for f in HASHED_FIELDS if f not in ignored)


def body_shrink(current: dict[str, Any], new: dict[str, Any]) -> float:
    """Share of the current body's length that the new body lost (0 when it did not shrink)."""
    cur, now = len(current.get("body") or ""), len(new.get("body") or "")
    return 0.0 if cur == 0 or now >= cur else (cur - now) / cur


def _differing_values(current: dict[str, Any], new: dict[str, Any]):
    """(name, current value, new value) of each hashed field that differs between two
    normalised records; an image present in both is compared part by part ("image.caption")."""
    for name in HASHED_FIELDS:
        cur, now = current.get(name), new.get(name)
        if cur == now:
            continue
        if name == "image" and cur and now:
            for part in IMAGE_PARTS:
                if cur.get(part) != now.get(part):
                    yield f"image.{part}", cur.get(part), now.get(part)
        else:
            yield name, cur, now


def _source(sources: dict[str, Any], name: str) -> Any:
    if name in sources or LAYOUT_KEY in sources:
        return sources.get(name)
    # Stored before image parts had sources of their own (they came with the layout
    # signature): the image's source stands for its parts.
    return sources.get(name.partition(".")[0])


def _absent(value: Any) -> bool:
    return value is None or value == []


def layout_moved(
    current_sources: dict[str, Any] | None, new_sources: dict[str, Any] | None
) -> set[str] | None:
    """Fields (and "page") whose selector entries differ between the two layout signatures,
    or None when either side has no signature."""
    before = (current_sources or {}).get(LAYOUT_KEY)
    after = (new_sources or {}).get(LAYOUT_KEY)
    if not isinstance(before, list) or not isinstance(after, list):
        return None
    return {str(entry).partition(":")[0] for entry in set(before) ^ set(after)}


@dataclass(frozen=True)
class Drift:
    """Rule 6's findings: values that vanished on a page whose structure is not provably intact,
    and values whose source fell back. `moved`: the fields whose selectors moved although
    their values did not (None: no signatures to compare)."""

    vanished: list[str]
    fell_back: list[str]
    moved: set[str] | None

    def __bool__(self) -> bool:
        return bool(self.vanished or self.fell_back)

    def reason(self) -> str:
        parts = []
        if self.vanished:
            why = (
                "no layout signature to tell an edit from drift"
                if self.moved is None
                else "layout changed (" + ", ".join(sorted(self.moved)) + ")"
            )
            parts.append(f"value vanished, {why}: " + ", ".join(self.vanished))
        if self.fell_back:
            parts.append("value changed while its source fell back: " + ", ".join(self.fell_back))
        return "; ".join(parts)


def layout_drift(
    current: dict[str, Any],
    current_sources: dict[str, Any] | None,
    new: dict[str, Any],
    new_sources: dict[str, Any] | None,
) -> Drift:
    """Rule 6 (module docstring) over two normalised records and their parsers' sources."""
    current_sources, new_sources = current_sources or {}, new_sources or {}
    moved = layout_moved(current_sources, new_sources)
    changed = set(changed_fields(current, new))
    intact = moved is not None and moved <= changed
    vanished, fell_back = [], []
    for name, cur, now in _differing_values(current, new):
        if not _absent(cur) and _absent(now):
            if not intact:
                vanished.append(name)
        elif _source(current_sources, name) in TRUSTED_SOURCES and (
            _source(new_sources, name) not in TRUSTED_SOURCES
        ):
            fell_back.append(name)
    return Drift(vanished, fell_back, None if moved is None else moved - changed)


@dataclass(frozen=True)
class Decision:
    """What to do with one fetched record. `normalised` and `content_hash` describe the new
    record; `reason` explains parse_failure/suspect/unchanged-preview outcomes."""

    kind: str  # new_article | new_version | unchanged | parse_failure | suspect
    normalised: dict[str, Any]
    content_hash: str
    changed_fields: list[str] = field(default_factory=list)
    reason: str | None = None


def classify(
    record: dict[str, Any],
    current: dict[str, Any] | None = None,
    *,
    current_hash: str | None = None,
    current_sources: dict[str, Any] | None = None,
    max_body_shrink: float = DEFAULT_MAX_BODY_SHRINK,
    confirmed: bool = False,
) -> Decision:
    """Apply the versioning rules (module docstring) to a fetched `record` (raw parser dict)
    against the article's current version (`current`: normalised fields, or None).
    `confirmed`: someone vouched for the record (an accepted suspect fetch), so only rules
    1-3 apply: anything that differs from the current version is a new version."""
    new = normalise(record)
    digest = content_hash(new, normalised=True)
    missing = [name for name in ("title", "body") if not new[name]]
    if missing:
        return Decision("parse_failure", new, digest, reason=f"missing {', '.join(missing)}")
    if current is None:
        return Decision("new_article", new, digest, list(FIRST_VERSION_CHANGED))
    if current_hash is None:
        current_hash = content_hash(current, normalised=True)
    if digest == current_hash:
        return Decision("unchanged", new, digest)
    if confirmed:
        return Decision("new_version", new, digest, changed_fields(current, new))
    if is_preview_of(current, new):
        return Decision("unchanged", new, digest, reason="preview of the stored full text")

    changed = changed_fields(current, new)
    paywall_same = (current.get("paywalled"), current.get("body_complete")) == (
        new.get("paywalled"),
        new.get("body_complete"),
    )
    # Rules 5 and 6 both hold a fetch back; the reason gives every finding, so that whoever
    # looks at the suspect sees all the fields involved.
    reasons = []
    shrink = body_shrink(current, new)
    if paywall_same and shrink > max_body_shrink:
        reasons.append(
            f"body shrank by {shrink:.0%} (limit {max_body_shrink:.0%}), paywall unchanged"
        )
    drift = layout_drift(current, current_sources, new, record.get("sources"))
    if drift:
        reasons.append(drift.reason())
    if reasons:
        return Decision("suspect", new, digest, changed, reason="; ".join(reasons))
    return Decision("new_version", new, digest, changed)
