"""Page furniture that is not content: styles, icon sprite, menus, footer, script blobs.

Real rp.pl pages weigh 150-250 KB, mostly this. Static parts are built once per process; the
parts seeded by an article's `furniture_seed` change when a test reshuffles the furniture.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache

SECTIONS = [  # top menu: (label, path, subsections)
    ("Kraj", "/kraj", ["Polityka", "Społeczeństwo", "Przestępczość", "Samorząd", "Edukacja"]),
    ("Świat", "/wydarzenia/swiat", ["Dyplomacja", "Konflikty zbrojne", "Polityka",
                                    "Unia Europejska", "USA", "Rosja", "Bliski Wschód"]),
    ("Ekonomia", "/ekonomia", ["Gospodarka", "Finanse", "Energetyka", "Handel", "Transport",
                               "Rynek pracy", "Nieruchomości"]),
    ("Prawo", "/prawo", ["Sądy i trybunały", "Zawody prawnicze", "Podatki", "Dla firm"]),
    ("Opinie", "/opinie", ["Publicystyka", "Komentarze", "Felietony", "Rzecz o polityce"]),
    ("Kultura", "/kultura", ["Książki", "Film", "Muzyka", "Teatr", "Sztuka"]),
    ("Nauka", "/nauka", ["Technologie", "Zdrowie", "Kosmos", "Klimat"]),
    ("Plus Minus", "/plus-minus", ["Wywiady", "Reportaże", "Historia"]),
    ("Sport", "/sport", ["Piłka nożna", "Siatkówka", "Tenis", "Skoki narciarskie"]),
]

SISTERS = ["https://historia.rp.pl/", "https://pro.rp.pl/", "https://www.parkiet.com/",
           "https://kobieta.rp.pl/", "https://moto.rp.pl/", "https://cyfrowa.rp.pl/",
           "https://klimat.rp.pl/", "https://sklep.rp.pl/"]

SOCIAL = ["https://www.facebook.com/dziennikrzeczpospolita", "https://twitter.com/rzeczpospolita",
          "https://www.linkedin.com/company/rzeczpospolita", "https://www.youtube.com/@rzeczpospolita"]


def _slug(label: str) -> str:
    from .text import slugify

    return slugify(label)


@lru_cache(maxsize=1)
def css() -> str:
    """~45 KB of utility CSS, like the page's inlined critical styles."""
    r = random.Random(11)
    props = ["margin", "padding", "font-size", "line-height", "letter-spacing", "border-width",
             "max-width", "min-height", "gap", "top", "left"]
    names = ["blog--title", "article--title", "article--lead", "blog--subtitle", "articleBody",
             "content--excerpt", "overline--comp", "teaser--item", "breadcrumb--component",
             "paywall--counter", "advertOuter", "intext--video", "btn--tag", "tag--comp"]
    rules = []
    for i in range(900):
        name = names[i % len(names)] if i < 60 else f"u-{i:03d}-{r.choice('abcdefgh')}"
        decl = ";".join(f"{p}:{r.randint(0, 64)}px" for p in r.sample(props, 3))
        media = r.random() < 0.2
        rule = f".{name}{{{decl};color:#{r.randrange(0x1000000):06x}}}"
        rules.append(f"@media (min-width:{r.choice([640, 768, 1024, 1280])}px){{{rule}}}"
                     if media else rule)
    return "\n".join(rules)


@lru_cache(maxsize=1)
def svg_sprite() -> str:
    r = random.Random(12)
    icons = ["rp", "facebook", "linkedin", "x-twitter", "mail", "thumb-up", "search", "user",
             "menu", "close", "arrow-right", "arrow-left", "ring2", "fullscreen", "play", "pause",
             "bookmark", "share", "print", "comment", "clock", "star", "chevron-down", "lock"]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" style="display:none" aria-hidden="true">']
    for name in icons:
        d = "M" + " ".join(f"{r.uniform(0, 24):.3f},{r.uniform(0, 24):.3f}" for _ in range(60))
        out.append(f'<symbol id="icon-{name}" viewBox="0 0 24 24"><path d="{d}Z"/></symbol>')
    out.append("</svg>")
    return "\n".join(out)


@lru_cache(maxsize=1)
def header() -> str:
    items = []
    for label, path, subs in SECTIONS:
        sub = "".join(
            f'<li class="menu--sub--item"><a href="{path}/{_slug(s)}" '
            f'data-gtm-trigger="menu">{s}</a></li>' for s in subs)
        items.append(
            f'<li class="menu--item" data-mrf-placement="{label}"><a class="menu--link" '
            f'href="{path}">{label}</a><ul class="menu--sub">{sub}</ul></li>')
    sisters = "".join(f'<li><a href="{u}" rel="noopener">{u.split("//")[1].strip("/")}</a></li>'
                      for u in SISTERS)
    return (
        '<header class="header--component" data-mrf-section="Header">'
        '<div class="header--top"><a class="logo" href="/" aria-label="Rzeczpospolita">'
        '<svg class="icon"><use href="#icon-rp"></use></svg></a>'
        '<a class="btn btn--main shopBuyTrigger" href="https://sklep.rp.pl/" rel="nofollow">'
        'Subskrybuj</a><a class="header--login" href="https://profil.presspublica.pl/login" '
        'rel="nofollow">Zaloguj się</a><form class="search--form" action="/szukaj">'
        '<input type="search" name="q" placeholder="Szukaj"></form></div>'
        f'<nav class="menu--component"><ul class="menu--list">{"".join(items)}</ul>'
        f'<ul class="menu--sisters">{sisters}</ul></nav></header>'
    )


@lru_cache(maxsize=1)
def footer() -> str:
    cols = []
    for label, path, subs in SECTIONS:
        links = "".join(f'<li><a href="{path}/{_slug(s)}">{s}</a></li>' for s in subs)
        cols.append(f'<div class="footer--col"><p class="footer--head">{label}</p>'
                    f'<ul>{links}</ul></div>')
    social = "".join(f'<a class="link" href="{u}" target="_blank" rel="noopener noreferrer">'
                     f'<span class="icon-social"></span></a>' for u in SOCIAL)
    return (
        '<footer class="footer--component" data-mrf-section="Footer">'
        f'<div class="footer--cols">{"".join(cols)}</div><div class="footer--social">{social}</div>'
        '<div class="footer--legal"><a href="/regulamin">Regulamin</a> '
        '<a href="/polityka-prywatnosci">Polityka prywatności</a> '
        '<a href="/kontakt">Kontakt</a> <a href="/reklama">Reklama</a>'
        '<p>© Copyright by Gremi Media SA</p></div></footer>'
    )


def ad(slot: str, extra: str = "") -> str:
    return (f'<div class="{slot} {extra} advert--outer advertOuter text-center">'
            f'<div class="advert--label">Reklama</div>'
            f'<div class="advert--slot" id="{slot}Inner" data-slot="{slot}"></div></div>')


def marketing(r: random.Random) -> str:
    """Subscription promo between body blocks: text a parser must not take for content."""
    offer = r.choice(["Czytaj rp.pl bez ograniczeń", "Subskrybuj „Rzeczpospolitą” za 1 zł",
                      "Dostęp do wszystkich artykułów i wydania cyfrowego"])
    return (
        f'<div class="marketingComponent marketingComponentContentPageInBody" '
        f'data-component-id="mc-{r.randrange(10**6):06d}"><p class="marketing--title">{offer}</p>'
        '<p class="marketing--text">Wybierz pakiet i czytaj najważniejsze analizy.</p>'
        '<a class="btn btn--main shopBuyTrigger" href="https://sklep.rp.pl/" rel="nofollow">'
        'Sprawdź ofertę</a></div>'
    )


def intext_video(r: random.Random) -> str:
    cfg = json.dumps({"player": "rp-video", "playlist": r.randrange(10**5), "autoplay": False,
                      "muted": True, "adBreak": "preroll"})
    return (
        '<div id="intextVideo" class="stickyFloatingParent intext--video">'
        '<div class="advert--label">Reklama</div>'
        f"<div class=\"video--player\" data-player-config='{cfg}'></div>"
        f'<script>window.intextVideoQueue=(window.intextVideoQueue||[]).concat([{cfg}]);'
        '</script></div>'
    )


def head_scripts(r: random.Random, page_view: dict) -> str:
    data_layer = json.dumps([{"event": "pageView", **page_view}], ensure_ascii=False)
    return (
        f"<script>window.dataLayer=window.dataLayer||[];dataLayer.push(...{data_layer});"
        f"(function(w,d,s,l,i){{w[l]=w[l]||[];w[l].push({{'gtm.start':new Date().getTime(),"
        f"event:'gtm.js'}});}})(window,document,'script','dataLayer','GTM-{r.randrange(10**6)}');"
        "</script>"
    )


def app_config(r: random.Random, teasers: list[tuple[str, str]]) -> str:
    """A big JSON config blob, seeded per page: ad slots, feature flags, teaser cache."""
    cfg = {
        "env": "production",
        "build": f"{r.randrange(16**8):08x}",
        "adSlots": [
            {"id": f"slot-{i}", "sizes": [[300, 250], [336, 280], [750, 200]],
             "refresh": r.randint(30, 90), "lazy": r.random() < 0.5,
             "targeting": {"pos": i, "k": f"{r.randrange(16**6):06x}"}}
            for i in range(40)
        ],
        "features": {f"flag_{i:03d}": r.random() < 0.5 for i in range(150)},
        "paywall": {"types": ["preview", "need_normal_access", "need_premium_access",
                              "limit_reached_need_normal", "limit_reached_need_premium"],
                    "meterMax": 3},
        "teasers": [{"title": t, "url": u, "img": f"https://i.gremicdn.pl/image/free/"
                                                  f"{r.randrange(16**12):012x}/"}
                    for t, u in teasers],
    }
    return json.dumps(cfg, ensure_ascii=False).replace("</", "<\\/")


def padding_script(r: random.Random, nbytes: int) -> str:
    """Pad a page up to the minimum weight with a tracking-pixel style JSON list."""
    items = []
    size = 0
    while size < nbytes:
        item = (f'{{"id": {r.getrandbits(30)}, "h": "{r.getrandbits(64):016x}", '
                f'"u": "https://px.gremimedia.pl/p/{r.getrandbits(20)}"}}')
        items.append(item)
        size += len(item) + 1
    return ('<script type="application/json" id="rpPixelCache">[' + ",".join(items) +
            "]</script>")


_WORDS = ("rząd minister wybory Unia sankcje rozmowy szczyt NATO budżet premier prezydent "
          "Sejm ustawa granica wojsko gospodarka inflacja podatki energia sąd reforma "
          "Kijów Waszyngton Bruksela Berlin Pekin dyplomacja umowa kryzys decyzja").split()


def _title(r: random.Random, n: int) -> str:
    return " ".join(r.choice(_WORDS) for _ in range(n)).capitalize()


def _teaser_box(r: random.Random) -> str:
    """A recommendation box as real pages carry several of: cards with images and leads."""
    cards = []
    for _ in range(12):
        img = f"https://i.gremicdn.pl/image/free/{r.getrandbits(48):012x}"
        cards.append(
            f'<div class="teaser--item teaser--reco" data-id="{r.getrandbits(26)}">'
            f'<a class="teaser--link" href="/{r.choice(["kraj", "ekonomia", "swiat"])}/'
            f'art{r.randrange(10**8)}-{r.choice(_WORDS).lower()}" data-gtm-trigger="reco">'
            f'<picture><source type="image/webp" srcset="{img}/?format=webp&amp;w=320 320w, '
            f'{img}/?format=webp&amp;w=640 640w"><img class="teaser--img" loading="lazy" '
            f'src="{img}/?w=320" alt="{_title(r, 4)}" width="320" height="180"></picture>'
            f'<span class="teaser--overline">{r.choice(_WORDS)}</span>'
            f'<h3 class="teaser--title">{_title(r, r.randint(5, 10))}</h3>'
            f'<p class="teaser--lead">{_title(r, r.randint(12, 22))}.</p></a>'
            f'<div class="teaser--meta"><time datetime="2026-11-{r.randint(1, 28):02d}">'
            f'{r.randint(1, 23)} godz. temu</time><span class="icon-comment"></span></div></div>')
    return (f'<section class="reco--box" data-mrf-section="Reco{r.randrange(100)}">'
            f'<p class="reco--head">{_title(r, 3)}</p><div class="reco--grid">{"".join(cards)}'
            '</div></section>')


def _state_script(r: random.Random) -> str:
    """A hydration state chunk: nested JSON of teasers and tracking, in a script element."""
    items = [{"id": r.getrandbits(26), "title": _title(r, r.randint(5, 10)),
              "lead": _title(r, r.randint(10, 20)), "section": r.choice(_WORDS),
              "img": {"id": f"{r.getrandbits(48):012x}", "w": 1200, "h": 675},
              "tags": [r.choice(_WORDS) for _ in range(4)], "paid": r.random() < 0.4}
             for _ in range(14)]
    state = json.dumps({"key": f"q{r.getrandbits(32):08x}", "data": items}, ensure_ascii=False)
    state = state.replace("</", "<\\/")
    return f'<script type="application/json" data-hydrate="1">{state}</script>'


def _inline_svg(r: random.Random) -> str:
    d = "M" + " ".join(f"{r.uniform(0, 48):.2f},{r.uniform(0, 48):.2f}" for _ in range(90))
    return (f'<div class="promo--graphic"><svg viewBox="0 0 48 48" width="48" height="48" '
            f'aria-hidden="true"><path fill="#{r.randrange(0x1000000):06x}" d="{d}Z"/></svg></div>')


def _style_chunk(r: random.Random) -> str:
    rules = "".join(f".c-{r.getrandbits(24):06x}{{margin:{r.randint(0, 40)}px;"
                    f"color:#{r.randrange(0x1000000):06x};flex:{r.randint(0, 3)}}}"
                    for _ in range(60))
    return f"<style>{rules}</style>"


def mixed_furniture(r: random.Random, nbytes: int) -> str:
    """Weight like real pages' (450-500 KB for rp.pl): recommendation boxes (markup the
    parser walks), hydration JSON, inline SVG and style chunks, mixed, about `nbytes`."""
    makers = [_teaser_box, _state_script, _state_script, _inline_svg, _style_chunk]
    out, size = [], 0
    while size < nbytes:
        chunk = r.choice(makers)(r)
        out.append(chunk)
        size += len(chunk.encode())
    return '<div class="page--extras">' + "\n".join(out) + "</div>"
