"""The replica's content: `ReplicaSite.default()` (the documented required cases) and
`ReplicaSite.generated(n)` (thousands of articles for benchmarks), plus runtime mutations."""

from __future__ import annotations

import hashlib
import random
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

from . import text as T
from .model import RP, WARSAW, Article, Author, Block, Card, Image, plain
from .text import Writer, esc, nbsp, slugify

DEFAULT_ROBOTS = """User-agent: *
Disallow: /szukaj
Disallow: /api/
Disallow: /koszyk
Disallow: /moje-konto
Disallow: /dyplomacja/art44810013
Disallow: /*?ajax=1

User-agent: GPTBot
Disallow: /

Sitemap: {base}/sitemaps/sitemap.xml
Sitemap: {base}/sitemaps/news-sitemap.xml
"""

# Pages of other sections: they exist (200) but a section crawler must not follow them.
OTHER_PAGES = [  # id, section slug, label, title
    ("40668231", "publicystyka", "Publicystyka", T.SEED["card"]),
    ("40660012", "materialy-partnera", "Materiał Promocyjny",
     "Wpływ amerykańskich firm na rozwój polskiej gospodarki"),
    ("41999870", "polityka", "Polityka",
     "Sejm przyjął uchwałę w sprawie pomocy dla Ukrainy. Głosowało 440 posłów"),
    ("42100456", "publicystyka", "Publicystyka",
     "Jerzy Haszczyński: Europa nie może czekać na Waszyngton"),
    ("44180512", "konflikty-zbrojne", "Konflikty zbrojne",
     "Wojna Rosji z Ukrainą. Dzień 1512"),
    ("44700001", "swiat", "Świat", "Wybory w Mołdawii. Partia proeuropejska prowadzi"),
    ("44850077", "polityka", "Polityka",
     "Rząd przyjął projekt ustawy o ochronie ludności"),
]

EMBEDS = [
    "https://www.youtube.com/embed/dQw4w9WgXcQ",
    "https://platform.twitter.com/embed/Tweet.html?id=1801234567890123456",
    "https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com%2Fmszpl",
]


def _img(seed: str) -> str:
    h = hashlib.md5(seed.encode()).hexdigest()
    return f"https://i.gremicdn.pl/image/free/{h}/?t=resize:fill:1200:716,enlarge:1"


@dataclass(frozen=True)
class Teaser:
    article_id: str
    title: str
    path: str
    lead: str


class ReplicaSite:
    """Articles of the diplomacy section plus a few pages of other sections.

    Thread-safe: mutations take `lock`; the server renders from `snapshot()` copies.
    """

    def __init__(self, articles: list[Article], others: list[Article] | None = None):
        self.lock = threading.RLock()
        self._articles: dict[str, Article] = {a.article_id: a for a in articles}
        self.others: dict[str, Article] = {a.article_id: a for a in others or []}
        self.robots_txt = DEFAULT_ROBOTS  # "{base}" is replaced by the server's base URL
        self.page_size = 10  # listing cards per page
        self.min_page_bytes = 150 * 1024 + 4096  # every article page weighs at least this
        # How pages are brought up to that weight: "script" (one JSON script) or "mixed"
        # (recommendation boxes, hydration JSON, SVG, styles: the bench's real-weight pages).
        self.padding = "script"
        # Layout drift: serve every page with renamed classes (and ids, see README).
        self.redesign = False
        self.redesign_ids = True
        self.class_renames: dict[str, str] | None = None
        self.listing_variants = False  # listing links the top article under several URL variants
        self.rev = 0  # bumped on every mutation; keys listing/feed caches
        self._order: list[Article] | None = None
        self._teasers: list[Teaser] | None = None
        self.cache: OrderedDict = OrderedDict()  # rendered pages, see render.cached()
        self.cache_size = 256

    # --- construction ----------------------------------------------------------------------

    @classmethod
    def default(cls) -> ReplicaSite:
        site = cls(_required_articles() + _seed_neighbours(), _other_pages())
        # The seed's related items point at the articles built with their titles.
        by_title = {a.title: a.path for a in [*site._articles.values(), *site.others.values()]}
        seed = site.article("40671561")
        seed.related_items = [(lab, t, by_title[t]) for lab, t, _ in seed.related_items]
        return site

    @classmethod
    def generated(cls, n: int, seed: int = 7) -> ReplicaSite:
        """The default site plus synthetic fillers up to `n` articles (bodies built lazily)."""
        site = cls.default()
        rng = random.Random(seed)
        missing = max(0, n - len(site._articles))
        start = datetime(2026, 11, 26, 21, 0)
        taken = set(site._articles) | set(site.others)
        # Ids grow with time: fillers get ids interpolated between the default articles'.
        anchors = sorted((a.published, int(a.article_id)) for a in site._articles.values())
        dt = start
        for i in range(missing):
            dt -= timedelta(minutes=rng.randint(40, 300))
            aid = str(_interpolated_id(anchors, dt, int(_id_for(dt, rng))))
            while aid in taken:
                aid = str(int(aid) + 1)
            taken.add(aid)
            site._articles[aid] = _filler(aid, dt, seed * 100000 + i, tidy=True)
        return site

    # --- reading ---------------------------------------------------------------------------

    def article(self, article_id: str | int) -> Article:
        return self._articles[str(article_id)]

    def get(self, article_id: str | int) -> Article | None:
        return self._articles.get(str(article_id))

    @property
    def cases(self) -> dict[str, list[str]]:
        """Required case name -> ids of the articles covering it (from `Article.cases`)."""
        out: dict[str, list[str]] = {}
        for a in self._articles.values():
            for name in a.cases:
                out.setdefault(name, []).append(a.article_id)
        return out

    def case(self, name: str) -> Article:
        """The article built for a required case (the first one when several cover it)."""
        return self.article(sorted(self.cases[name])[0])

    @property
    def articles(self) -> list[Article]:
        """All articles of the section, removed ones included, newest first."""
        with self.lock:
            if self._order is None:
                self._order = sorted(self._articles.values(),
                                     key=lambda a: (a.published, a.article_id), reverse=True)
            return list(self._order)

    def live_articles(self) -> list[Article]:
        return [a for a in self.articles if a.removed is None]

    def teaser_pool(self) -> list[Teaser]:
        """Articles that page furniture (related tabs, teasers) may show, frozen at first use:
        an article page's bytes then depend only on its own state and furniture seed, so its
        ETag and its cached copy stay truthful while other articles are added or removed."""
        with self.lock:
            if self._teasers is None:
                self._teasers = [Teaser(a.article_id, a.title, a.path, a.lead)
                                 for a in self.live_articles()]
            return self._teasers

    def expected(self, article_id: str | int, base_url: str = RP,
                 link_base: str | None = None) -> dict:
        with self.lock:
            return self.article(article_id).expected_record(base_url, link_base)

    def __len__(self) -> int:
        return len(self._articles)

    def render(self, article, base_url: str = RP, real_links: str | None = None) -> str:
        """The article page as the server sends it (no faults), links rebased to `base_url`
        (except the real site's links that `real_links` keeps, see render.rebase)."""
        from . import render

        with self.lock:
            a = article if isinstance(article, Article) else self.article(article)
            snap = a.snapshot()
        page = render.article_page(self, snap)
        if self.redesign or self.class_renames:
            page = render.redesign(page, self.class_renames, self.redesign_ids)
        return render.rebase(page, base_url, real_links)

    render_article = render

    # --- mutations (tests call these between two crawls) -----------------------------------

    def _touch(self, a: Article) -> None:
        a.version += 1
        # Strictly increasing, second resolution: If-Modified-Since must see every edit.
        now = datetime.now(UTC).replace(microsecond=0)
        a.last_modified = max(now, a.last_modified + timedelta(seconds=1))
        self.rev += 1
        self._order = None

    def edit(self, article_id, **changes) -> Article:
        """Change any content field (title, lead, blocks, tags, authors, updated, ...)."""
        names = {f.name for f in fields(Article)} | {"blocks"}
        with self.lock:
            a = self.article(article_id)
            for key, value in changes.items():
                if key not in names:
                    raise AttributeError(f"Article has no field {key!r}")
                setattr(a, key, value)
            self._touch(a)
            return a

    def edit_title(self, article_id, new_title: str) -> Article:
        return self.edit(article_id, title=new_title)

    def replace_text(self, article_id, old: str, new: str) -> Article:
        """Replace text inside one body block (the first block containing `old`). `old` may be
        given as markup or as the block's plain text (ground-truth form, e.g. with a space where
        the HTML has &nbsp;); in the latter case the block's inline markup is flattened."""
        with self.lock:
            a = self.article(article_id)
            blocks = list(a.blocks)
            for i, b in enumerate(blocks):
                if old in b.html:
                    blocks[i] = Block(**{**b.__dict__, "html": b.html.replace(old, new, 1)})
                    break
                if b.kind == "list" and any(old in it for it in b.items):
                    items = tuple(it.replace(old, new, 1) for it in b.items)
                    blocks[i] = Block(**{**b.__dict__, "items": items})
                    break
                if b.kind in ("p", "h2", "question") and old in plain(b.html):
                    flat = esc(plain(b.html).replace(old, new, 1))
                    blocks[i] = Block(**{**b.__dict__, "html": flat})
                    break
            else:
                raise KeyError(f"{old!r} not in the body of {article_id}")
            a.blocks = blocks
            self._touch(a)
            return a

    def set_paywall_percent(self, article_id, percent: int | None) -> Article:
        return self.edit(article_id, paywall_percent=percent)

    def add_article(self, title: str | None = None, *, template: str = "2026",
                    published: datetime | None = None, **changes) -> str:
        """A new article, newest of all unless `published` says otherwise. Returns its id."""
        with self.lock:
            newest = max(self._articles.values(), key=lambda a: a.published)
            if published is None:
                now = datetime.now(WARSAW).replace(tzinfo=None, second=0, microsecond=0)
                published = max(now, newest.published + timedelta(minutes=1))
            aid = str(max(int(k) for k in list(self._articles) + list(self.others)) + 137)
            a = _filler(aid, published, int(aid), template=template, tidy=True)
            a.blocks = a.blocks  # materialise: later edits must not regenerate it
            if title:
                a.title, a.slug = title, slugify(title)
            for key, value in changes.items():
                setattr(a, key, value)
            self._articles[aid] = a
            self._touch(a)
            return aid

    def point_canonical(self, article_id, target: str) -> Article:
        """Make the page's canonical link (and og:url, JSON-LD url) name another place: a
        section slug ("swiat" -> /swiat/art<id>-<slug>, where the article is then served too,
        as rp.pl serves an article under its canonical section) or an absolute URL on another
        host (a syndicated copy). The content is unchanged but the page is not: new ETag and
        Last-Modified, like any re-save."""
        with self.lock:
            a = self.article(article_id)
            if "://" not in target:
                target = f"/{target.strip('/')}/art{a.article_id}-{a.slug}"
            return self.edit(article_id, canonical=target)

    def remove_article(self, article_id, status: int = 404) -> None:
        if status not in (404, 410):
            raise ValueError("status must be 404 or 410")
        self.edit(article_id, removed=status)

    def restore_article(self, article_id) -> None:
        self.edit(article_id, removed=None)

    def reshuffle_furniture(self, article_id) -> Article:
        """New ads, related lists, block ids and script noise; same content. Last-Modified is
        kept (content unchanged); the ETag changes because the bytes do."""
        with self.lock:
            a = self.article(article_id)
            a.furniture_seed += 1
            self.rev += 1
            return a

    def serve_preview_only(self, article_id, on: bool = True) -> Article:
        """Serve the 2025 page as a non-subscriber sees it: preview + marker, no full copy.
        The content is unchanged (a monitor must not record an edit), so Last-Modified stays."""
        with self.lock:
            a = self.article(article_id)
            a.preview_only = on
            self.rev += 1
            return a


# --- building blocks --------------------------------------------------------------------------


def _id_for(dt: datetime, rng: random.Random) -> str:
    """Ids grow with time like the real ones: ~38.09M mid-2023, 40.67M June 2024, 44.19M April
    2026 (≈ 2.1M a year)."""
    base = datetime(2024, 6, 20, 6, 1)
    per_hour = 3_515_000 / ((datetime(2026, 4, 15) - base).total_seconds() / 3600)
    return str(int(40_671_561 + (dt - base).total_seconds() / 3600 * per_hour)
               + rng.randint(0, 40))


def _interpolated_id(anchors: list[tuple[datetime, int]], dt: datetime, fallback: int) -> int:
    """An id between those of the anchors published just before and after `dt`."""
    import bisect

    k = bisect.bisect_left(anchors, (dt, 0))
    if k == 0:
        return min(fallback, anchors[0][1] - 1 - int((anchors[0][0] - dt).total_seconds() // 12))
    if k == len(anchors):
        return max(fallback, anchors[-1][1] + 1 + int((dt - anchors[-1][0]).total_seconds() // 12))
    (t0, i0), (t1, i1) = anchors[k - 1], anchors[k]
    share = (dt - t0) / (t1 - t0) if t1 > t0 else 0.5
    return i0 + 1 + int((i1 - i0 - 2) * share)


def P(html: str) -> Block:
    return Block("p", html)


def H(html: str) -> Block:
    return Block("h2", html)


def _other_card(i: int) -> Card:
    aid, sec, label, title = OTHER_PAGES[i % len(OTHER_PAGES)]
    label_path = "/wydarzenia/swiat/dyplomacja" if sec == "dyplomacja" else f"/{sec}"
    return Card(title, f"/{sec}/art{aid}-{slugify(title)}", label, label_path,
                "Zobacz, co jeszcze wydarzyło się w tej sprawie i jak komentują to politycy...")


def _body(w: Writer, paras: int = 8, *, h2: int = 2, speech: int = 1, cards: int = 1,
          splits: int = 0, inline_link: bool = True) -> list[Block]:
    """A plausible article body: paragraphs with subheadings, speech, cards and split points."""
    r = w.rng
    out: list[Block] = []
    seen: set[str] = set()

    def fresh(make) -> str:
        # Small phrase pools repeat; a real article never repeats a subheading or paragraph.
        for _ in range(20):
            text = make()
            if text not in seen:
                break
        seen.add(text)
        return text

    for i in range(paras):
        if i and h2 and i % max(2, paras // (h2 + 1)) == 0:
            out.append(H(esc(fresh(w.heading))))
            h2 -= 1
        if speech and i == 2:
            out.append(P(esc(fresh(w.speech))))
            speech -= 1
            continue
        txt = esc(fresh(w.paragraph))
        if r.random() < 0.3:
            txt = nbsp(txt)
        if inline_link and i == 1:
            # Inline links point at pages that exist in the replica (no stray 404s).
            target = r.choice([f"/dyplomacja/art{T.SEED['article_id']}-{T.SEED['slug']}",
                               _other_card(r.randrange(len(OTHER_PAGES))).path])
            # The three link shapes of the skeletons: bare, wrapped in <span>, wrapping one.
            link = w.markup.choice([
                f'<a href="{RP}{target}" target="_blank" rel="follow">pisaliśmy wcześniej</a>',
                f'<span><a href="{RP}{target}">pisaliśmy wcześniej</a></span>',
                f'<a href="{RP}{target}"><span>pisaliśmy wcześniej</span></a>',
            ])
            txt += f" Więcej o tym {link}."
        elif w.markup.random() < 0.15:
            head, _, tail = txt.partition(" ")
            tag = w.markup.choice(["strong", "span", "em"])
            txt = f"<{tag}>{head}</{tag}> {tail}"
        out.append(P(txt))
        if cards and i == 3:
            out.append(Block("card", card=_other_card(r.randrange(len(OTHER_PAGES)))))
            cards -= 1
    # Split points go between blocks, never first or last.
    for k in range(splits):
        pos = (k + 1) * len(out) // (splits + 1)
        out.insert(pos + k, Block("split"))
    return out


def _authors(w: Writer, kind: str) -> list[Author]:
    if kind == "none":
        return []
    if kind == "initials":
        return [Author(w.rng.choice(["mk", "jm", "ap", "arb", "ms"]))]
    n = 3 if kind == "several" else 1
    return [Author(name, aid) for aid, name in w.rng.sample(T.AUTHORS, n)]


def _article(aid: str, published: datetime, *, template: str, w: Writer | None = None,
             title: str | None = None, lead: str | None = None, authors: str = "one",
             paywall: str = "open", percent: int | None = None, **kw) -> Article:
    w = w or Writer(aid)
    title = title or w.title()
    lead = lead or w.lead()
    a = Article(
        article_id=aid, slug=slugify(title), title=title, lead=lead, published=published,
        template=template, authors=_authors(w, authors), paywall=paywall,
        paywall_percent=percent, tags=w.tags(),
        image=Image(_img(aid), f"{w.person()[0]} w {w.rng.choice(T.PLACES)[0]}",
                    w.rng.choice(["PAP/Leszek Szymański", "REUTERS/Yves Herman",
                                  "AFP/John Thys",
                                  "PAP/EPA/Olivier Hoslet, PAP/Radek Pietruszka"])),
        og_title=_social_title(title, w), seo_title=title,
        last_modified=(published.replace(tzinfo=WARSAW).astimezone(UTC)),
    )
    for key, value in kw.items():
        setattr(a, key, value)
    if a.updated:
        a.last_modified = a.updated.replace(tzinfo=WARSAW).astimezone(UTC)
    return a


def _social_title(title: str, w: Writer) -> str:
    # og:title is written for social media and never equals the headline.
    head = title.split(". ")[0].split(": ")[0]
    return w.rng.choice([f"{head}. Zobacz, co ustalono", f"{head} – komentarze dyplomatów",
                         f"Pilne: {head}", f"{head}. Reakcje po rozmowach"])


def _filler(aid: str, published: datetime, seed: int, template: str | None = None,
            tidy: bool = False) -> Article:
    w = Writer(seed, tidy)
    r = w.rng
    template = template or ("2025" if published.year < 2026 else "2026")
    if template == "2025":
        paywall = r.choice(["meter", "meter", "meter", "open"])
    else:
        paywall = r.choice(["open", "open", "layer"])
    percent = r.randint(55, 92) if paywall == "meter" else None
    authors = r.choices(["one", "initials", "several", "none"], [14, 3, 2, 1])[0]
    a = _article(aid, published, template=template, w=w, authors=authors, paywall=paywall,
                 percent=percent, marker_style="jeszcze" if published.year >= 2025 else "plain")
    roll = r.random()
    if roll < 0.2:
        a.updated, a.update_visible = published + timedelta(minutes=r.randint(20, 900)), True
    elif roll < 0.3:
        a.updated = published + timedelta(minutes=r.randint(5, 90))
    paras, splits = r.randint(6, 14), (r.randint(1, 3) if template == "2025" else 0)
    cards = r.randint(0, 2)
    bseed = seed
    a.blocks_factory = lambda: _body(Writer(f"body{bseed}", tidy), paras, h2=paras // 4,
                                     cards=cards, splits=splits)
    return a


def _required_articles() -> list[Article]:
    S = T.SEED
    dt = datetime
    out: list[Article] = []

    # The seed (2024, 2025-style template, plain "Pozostało 82%" marker, initials byline).
    seed_card = Card(S["card"], f"/publicystyka/art40668231-{slugify(S['card'])}", "", "",
                     "Rosja szuka sojuszników tam, gdzie Zachód ma najmniej wpływów...")
    seed = Article(
        article_id=S["article_id"], slug=S["slug"], title=S["title"], lead=S["lead"],
        published=dt(2024, 6, 20, 6, 1), template="2025", authors=[Author("arb")],
        paywall="meter", paywall_percent=82, marker_style="plain", preview_paragraphs=2,
        tags=["NATO", "Jens Stoltenberg", "Rosja", "Korea Północna", "Władimir Putin",
              "Kim Dzong Un"],
        image=Image(_img("seed"), S["caption"], S["credit"]),
        og_title="Stoltenberg o pakcie Rosji z Koreą Północną: Demokracje muszą trzymać się razem",
        seo_title="NATO reaguje na pakt obronny Rosji i Korei Północnej",
        related_items=[(label, title, "") for label, title in S["related"]],
        last_modified=dt(2024, 6, 20, 4, 1, tzinfo=UTC),
        cases=("seed", "pull_quote", "initials_only", "split_containers"),
    )
    seed.blocks = [
        P(esc(S["p1"])), P(esc(S["p2"])), H(esc(S["h1"])), P(esc(S["p3"])),
        Block("card", card=seed_card), Block("split"), P(esc(S["p4"])), P(esc(S["p5"])),
        Block("quote", esc(S["quote"]), attribution=S["quote_by"]), H(esc(S["h2"])),
        P(esc(S["p6"])), P(esc(S["p7"])),
    ]
    out.append(seed)

    def add(aid, published, template, cases, **kw):
        blocks = kw.pop("blocks", None)
        a = _article(aid, published, template=template, cases=tuple(cases), **kw)
        a.blocks = blocks if blocks is not None else _body(Writer("b" + aid))
        out.append(a)
        return a

    # 2025 metered page mirroring article-2025.html: three containers, "jeszcze" marker.
    w = Writer("42016502")
    blocks = _body(w, 9, h2=2, cards=1, splits=2)
    blocks.insert(8, Block("card", card=_other_card(3)))
    blocks.insert(3, P(esc(w.paragraph()) + ' Pisze o tym <a href="https://kobieta.rp.pl/'
                       'spoleczenstwo/art41990011-dyplomatki">serwis Kobieta.rp.pl</a>.'))
    # A malformed href as on the real page ("http://art…"): crawlers must shrug it off. Only
    # the href changes, the text stays as the parser fixtures know it.
    for i, b in enumerate(blocks):
        if b.kind == "p" and f'href="{RP}' in b.html:
            bad = re.sub(r'href="[^"]*"', 'href="http://art41999870-sejm-przyjal-uchwale"',
                         b.html, count=1)
            blocks[i] = P(bad)
            break
    add("42016502", dt(2025, 2, 14, 10, 42), "2025", ["meter_2025_jeszcze", "split_containers"],
        paywall="meter", percent=89, blocks=blocks, tags=T.TAGS[:11])

    # 2026 page served in full, mirroring article-2026.html; visible update -> JSON-LD moves
    # the update into datePublished.
    w = Writer("44186001")
    blocks = _body(w, 10, h2=3, cards=2)
    blocks.insert(1, Block("embed"))  # empty code block, filled by script on the real page
    blocks.insert(3, Block("embed", src=EMBEDS[0]))
    blocks.insert(9, Block("infographic", title="Wydatki państw NATO na obronność w 2025 r.",
                           credit="PAP", src=_img("info44186001")))
    blocks.insert(6, Block("embed", src=EMBEDS[1]))
    add("44186001", dt(2026, 4, 15, 7, 30), "2026",
        ["full_2026", "embed_2026", "infographic", "visible_update", "jsonld_dates_disagree"],
        updated=dt(2026, 4, 15, 12, 5), update_visible=True, blocks=blocks)

    add("44213377", dt(2026, 4, 22, 18, 10), "2026", ["layer_no_marker_2026"], paywall="layer",
        blocks=_body(Writer("b44213377"), 9, h2=2, cards=1))
    add("44302118", dt(2026, 5, 30, 9, 0), "2026", ["layer_partial_2026"], paywall="layer_partial",
        partial_blocks=3, blocks=_body(Writer("b44302118"), 10, h2=2, cards=1))

    # Hard paywall (opinion): only date line, two paragraphs, teasers and a login prompt.
    add("42377790", dt(2025, 4, 8, 16, 20), "2025", ["hard_paywall"], paywall="hard",
        preview_paragraphs=2, title="Jerzy Haszczyński: Dyplomacja bez złudzeń wobec Kremla",
        authors="one", blocks=_body(Writer("b42377790"), 8, h2=1))

    add("42519904", dt(2025, 5, 12, 8, 15), "2025", ["hidden_update"], paywall="meter",
        percent=64, updated=dt(2025, 5, 12, 9, 47), update_visible=False)
    add("42731215", dt(2025, 7, 3, 13, 5), "2025", ["visible_update_2025", "jsonld_no_update_2025"],
        paywall="meter", percent=71, updated=dt(2025, 7, 4, 7, 55), update_visible=True)

    # DST: 30.03.2025 02:00 -> 03:00 (+01:00 -> +02:00); 26.10.2025 03:00 -> 02:00.
    add("42290411", dt(2025, 3, 30, 1, 30), "2025", ["dst_spring_before"], paywall="meter",
        percent=77)
    add("42290467", dt(2025, 3, 30, 3, 30), "2025", ["dst_spring_after"], paywall="open")
    add("43390120", dt(2025, 10, 26, 1, 59), "2025", ["dst_autumn_before"], paywall="meter",
        percent=80)
    add("43390188", dt(2025, 10, 26, 3, 1), "2025", ["dst_autumn_after"], paywall="open",
        updated=dt(2025, 10, 26, 9, 15), update_visible=True)

    add("44455012", dt(2026, 7, 9, 11, 0), "2026", ["several_authors"], authors="several")
    add("42603377", dt(2025, 6, 2, 19, 45), "2025", ["no_author"], authors="none",
        paywall="meter", percent=85)
    add("44520045", dt(2026, 8, 14, 6, 30), "2026", ["initials_only"], authors="initials")

    w = Writer("44611230")
    blocks = _body(w, 7, h2=1)
    blocks.insert(3, Block("list", items=tuple(esc(x) for x in w.rng.sample(T.LIST_ITEMS, 4))))
    add("44611230", dt(2026, 9, 1, 15, 40), "2026", ["list_2026"], blocks=blocks)

    w = Writer("42855501")
    blocks = _body(w, 8, h2=2, splits=1)
    blocks.insert(2, Block("embed", src=EMBEDS[1]))
    blocks.insert(5, Block("list", items=tuple(esc(x) for x in w.rng.sample(T.LIST_ITEMS, 3))))
    add("42855501", dt(2025, 8, 20, 12, 0), "2025", ["embed_2025", "list_2025"],
        paywall="meter", percent=69, blocks=blocks)

    # Interview: question headings followed by answers.
    w = Writer("44702266")
    blocks = [P(esc(w.paragraph(2)))]
    for q, ans in zip(T.QUESTIONS, T.ANSWERS, strict=True):
        blocks += [Block("question", esc(q)), P(esc(ans))]
    blocks.insert(5, Block("card", card=_other_card(5)))
    add("44702266", dt(2026, 10, 5, 7, 0), "2026", ["interview"], blocks=blocks,
        title="Sławomir Dębski: Rosja testuje, na ile Zachód jest zjednoczony",
        lead="O granicach cierpliwości NATO, wojnie hybrydowej i roli Chin mówi dyrektor PISM.")

    # The same read-more card twice.
    w = Writer("42944180")
    blocks = _body(w, 9, h2=2, cards=0, splits=1)
    card = Block("card", card=_other_card(2))
    blocks.insert(3, card)
    blocks.insert(9, card)
    add("42944180", dt(2025, 9, 17, 10, 30), "2025", ["card_twice"], paywall="meter", percent=58,
        blocks=blocks)

    # Typography: &nbsp;, „…” and "…", speech paragraphs with -, – and —.
    blocks = [
        P("Rozmowy w&nbsp;Genewie zakończyły się bez przełomu, ale obie strony zapowiedziały "
          "kolejną rundę w&nbsp;przyszłym miesiącu."),
        P("- Nie ma zgody na to, by o&nbsp;Ukrainie decydowano bez Ukrainy - powiedział "
          "Sikorski dziennikarzom."),
        P("– Jesteśmy gotowi do rozmów, ale nie za wszelką cenę – odpowiedział Wadephul."),
        P("—&nbsp;Ta wizyta otwiera nowy rozdział w naszych relacjach — dodała Kallas."),
        H("Dyplomaci: „rozmowy były trudne”"),
        P("Minister określił spotkanie jako \"rzeczowe\", a jego zastępca mówił o „realnym "
          "postępie”. Komunikat MSZ nazywa je &quot;konstruktywnym&quot;."),
        P("W&nbsp;komunikacie podkreślono, że „Polska oczekuje jasnych gwarancji "
          "bezpieczeństwa”\u00a0– jak napisano – „a&nbsp;nie deklaracji”."),
        P(esc(Writer("t43011234").paragraph())),
    ]
    add("43011234", dt(2025, 9, 30, 21, 5), "2025", ["nbsp_quotes_speech"], paywall="meter",
        percent=74, blocks=blocks, title="Genewa bez przełomu. „Rozmowy były trudne”")

    add("44810013", dt(2026, 11, 3, 14, 25), "2026", ["robots_disallowed"])
    return out


def _seed_neighbours() -> list[Article]:
    """The seed's related items (real titles, June 2024) and fillers up to 30 articles."""
    out = []
    base = datetime(2024, 6, 20, 5, 0)
    for k, (label, title) in enumerate(T.SEED["related"]):
        if label != "Dyplomacja":
            continue
        aid = str(40671561 - 3100 * (k + 1) - 17 * k)
        a = _article(aid, base - timedelta(hours=11 * (k + 1)), template="2025", title=title,
                     paywall="meter", percent=70 + k, marker_style="plain")
        a.blocks_factory = (lambda s=aid: _body(Writer("b" + s), 7, splits=1))
        out.append(a)
    stamps = [datetime(2026, 11, 26, 18, 40), datetime(2026, 11, 25, 9, 5),
              datetime(2026, 11, 20, 13, 30), datetime(2026, 6, 11, 8, 20),
              datetime(2025, 12, 4, 17, 0), datetime(2025, 11, 12, 7, 45)]
    rng = random.Random(5)
    # Two fillers fall between hand-placed cases: ids chosen so that ids still grow with time.
    fixed = {3: "44371890", 5: "43431507"}
    for i, when in enumerate(stamps):
        aid = _id_for(when, rng)
        out.append(_filler(fixed.get(i, aid), when, 9000 + i))
    return out


def _other_pages() -> list[Article]:
    out = []
    for k, (aid, sec, label, title) in enumerate(OTHER_PAGES):
        a = _article(aid, datetime(2024, 6, 1) + timedelta(days=90 * k), template="2026",
                     title=title)
        a.section_slug, a.section_label = sec, label
        a.blocks_factory = (lambda s=aid: _body(Writer("o" + s), 6, cards=0))
        out.append(a)
    return out
