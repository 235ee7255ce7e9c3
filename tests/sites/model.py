"""The content of a small test site: stories with their ground truth, edits that bump the
version (ETag, Last-Modified). Rendering is the site module's (wp.py, plain.py)."""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

WORDS = ("minister talks summit border treaty council envoy sanctions trade delegation "
         "parliament vote coalition embassy agreement security region crisis reform budget "
         "election observers ceasefire negotiators capital officials statement allies "
         "economy energy pipeline grain exports harbour court ruling appeal").split()
FIRST = ("Anna Piotr Maria John Claire Tomasz Elena David Sofia Marek").split()
LAST = ("Nowak Smith Kowalska Brown Dubois Wiśniewski Rossi Miller García Zieliński").split()


@dataclass
class Story:
    key: str  # what the site's URL uses to name it (a slug or a number)
    section: str
    title: str
    authors: list[str]
    published: datetime  # aware
    paragraphs: list[str]
    free: bool = True  # False: behind the paywall, only `teaser` paragraphs are served
    teaser: int = 2
    version: int = 1
    modified: datetime | None = None

    @property
    def served_paragraphs(self) -> list[str]:
        return self.paragraphs if self.free else self.paragraphs[:self.teaser]

    def etag(self) -> str:
        digest = hashlib.sha1(repr((self.title, self.paragraphs, self.authors, self.free,
                                    self.version)).encode()).hexdigest()[:16]
        return f'"{digest}"'

    def last_modified(self) -> datetime:
        return self.modified or self.published


@dataclass
class SmallSite:
    """Stories newest first, and the page builder of the site's design."""

    name: str
    stories: list[Story]
    # (site, path, base URL) -> (status, content type, text, the story of an article page)
    render: Callable[[SmallSite, str, str], tuple[int, str, str, Story | None] | None]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def story(self, key: str) -> Story:
        return next(s for s in self.stories if s.key == key)

    def in_section(self, section: str) -> list[Story]:
        return [s for s in self.stories if s.section == section]

    def edit(self, key: str, **fields) -> None:
        with self.lock:
            story = self.story(key)
            for name, value in fields.items():
                setattr(story, name, value)
            story.version += 1
            story.modified = story.last_modified() + timedelta(minutes=30)

    def expected(self, key: str) -> dict:
        """What a correct parser reads from the story's page as served."""
        story = self.story(key)
        body = "\n\n".join(story.served_paragraphs)
        return {"title": story.title, "authors": list(story.authors),
                "published_at": story.published.isoformat(), "body": body,
                "paywalled": not story.free}


def make_stories(seed: int, sections: dict[str, int], key: Callable[[int, str], str],
                 now: datetime | None = None, paywalled_every: int = 0) -> list[Story]:
    """Stories with text from a seeded generator, newest first, published in the last days
    (so that a profile's revisit policy still re-checks them)."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    stories = []
    counter = 0
    for section, count in sections.items():
        for _ in range(count):
            counter += 1
            title = " ".join(rng.sample(WORDS, rng.randint(5, 8))).capitalize()
            paragraphs = [_sentence(rng, rng.randint(2, 4)) for _ in range(rng.randint(5, 9))]
            authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                       for _ in range(rng.choice((1, 1, 2)))]
            stories.append(Story(
                key=key(counter, title), section=section, title=title,
                authors=list(dict.fromkeys(authors)),
                published=now - timedelta(minutes=37 * counter + rng.randint(0, 30)),
                paragraphs=paragraphs,
                free=not (paywalled_every and counter % paywalled_every == 0)))
    return sorted(stories, key=lambda s: s.published, reverse=True)


def _sentence(rng: random.Random, count: int) -> str:
    sentences = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def slugify(title: str) -> str:
    return "-".join(title.lower().split())
