"""HTML/XML rendering of the replica: article pages in the 2025 and 2026 templates (structure copied
from docs/rp-markup/), listings, sitemaps, RSS, robots.txt and error pages.

Everything is rendered with https://www.rp.pl links and rebased to the server's URL at the end, so
the same cached page serves any base URL by a plain string replace (or keeps the real site's
links, as a mirror does: see rebase()).
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
from datetime import UTC, datetime
from email.utils import format_datetime

from . import noise
from .model import RP, WARSAW, Article, Block, Card, plain, visible_time, warsaw_iso

A = html.escape  # attribute/text escaping for plain strings
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SECTION_PATH = "/wydarzenia/swiat/dyplomacja"


def furniture_rng(a: Article) -> random.Random:
    return random.Random(f"{a.article_id}:{a.furniture_seed}")


def _block_ids(a: Article) -> list[str]:
    """Stable per (article, furniture seed); reshuffling changes them like a CMS re-save."""
    r = random.Random(f"ids:{a.article_id}:{a.furniture_seed}")
    return ["block-id-" + "".join(r.choice(ALNUM) for _ in range(10)) for _ in a.blocks]


def _cut(text: str, limit: int = 155) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "..."


def _jsonattr(obj) -> str:
    # JSON in a single-quoted attribute, like data-page-view-event on the real page.
    return json.dumps(obj, ensure_ascii=False).replace("&", "&amp;").replace("'", "&#39;")


def _script_json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False).replace("</", "<\\/")


# --- head ---------------------------------------------------------------------------------


def jsonld(a: Article) -> dict:
    url = a.canonical_url(RP)
    org = {"@type": "Organization", "name": "Rzeczpospolita",
           "logo": {"@type": "ImageObject", "url": f"{RP}/static/img/logo-rp.png",
                    "width": 2000, "height": 1125}}
    people = [{"@type": "Person", "name": au.name, **({"url": RP + au.path} if au.path else {})}
              for au in a.authors]
    dates = {k: warsaw_iso(v) for k, v in a.jsonld_date_values().items()}
    title = plain(a.title)
    keywords = ", ".join(a.tags)
    return {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "name": title,
        "url": url,
        "headline": title,
        "description": plain(a.lead),
        "keywords": keywords,
        "articleSection": a.section_label,
        "datePublished": dates["datePublished"],
        "dateCreated": dates["dateCreated"],
        "dateModified": dates["dateModified"],
        "isAccessibleForFree": False,  # false even when served in full (docs/rp-anatomy.md)
        "isPartOf": {"@type": ["CreativeWork", "Product"],
                     "name": "Rzeczpospolita - dostęp podstawowy", "productID": "rp.pl:podstawowy"},
        "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": False,
                    "cssSelector": ".articleBody"},
        "author": people,
        "creator": people,
        "publisher": org,
        "mainEntityOfPage": {
            "@type": "WebPage", "name": title, "url": url,
            "breadcrumb": {"@type": "BreadcrumbList", "itemListElement": [
                {"@type": "ListItem", "position": 1,
                 "name": "Rzeczpospolita - Najważniejsze wiadomości z Polski i ze świata",
                 "item": RP + "/"},
                {"@type": "ListItem", "position": 2, "name": a.section_label,
                 "item": RP + SECTION_PATH},
            ]},
            "thumbnailUrl": a.image.url if a.image else f"{RP}/static/img/rp-share.png",
            "publisher": org, "copyrightHolder": org, "description": plain(a.lead),
            "keywords": keywords, "@id": url,
        },
        "image": {"@type": "ImageObject", "url": a.image.url if a.image else "",
                  "width": 2000, "height": 1250},
        "thumbnailUrl": a.image.url if a.image else "",
    }


def head(a: Article, r: random.Random, page_view: dict) -> str:
    lead = plain(a.lead)
    img = a.image.url if a.image else f"{RP}/static/img/rp-share.png"
    attrs = ""
    if a.template == "2026":
        present = "true" if a.paywalled else "false"
        attrs = (f' data-paywall-present="{present}" data-paywall-layer-present="false"'
                 f' data-paywall-id="undefined"')
    preload = "".join(f'<link rel="preload" as="font" crossorigin href="/static/fonts/'
                      f'{f}.woff2">' for f in ("Lora-Regular", "Lora-Bold", "Inter-Regular",
                                                "Inter-SemiBold", "Inter-Bold"))
    return (
        f'<head{attrs}>\n<meta charset="utf-8">\n'
        f"<title>{A(plain(a.seo_title or a.title))} - rp.pl</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="description" content="{A(_cut(lead))}">\n'
        f'<link rel="canonical" href="{A(a.canonical_url(RP))}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{A(a.og_title)}">\n'
        f'<meta property="og:description" content="{A(_cut(lead, 200))}">\n'
        f'<meta property="og:url" content="{A(a.canonical_url(RP))}">\n'
        f'<meta property="og:image" content="{A(img)}">\n'
        '<meta property="og:site_name" content="rp.pl">\n'
        '<meta property="og:locale" content="pl_PL">\n'
        f'<meta property="mrf:sections" content="{A(a.section_label)}">\n'
        f'<meta property="mrf:tags" content="{A(";".join(a.tags))}">\n'
        '<meta name="twitter:card" content="summary_large_image">\n'
        '<meta name="robots" content="max-image-preview:large">\n'
        f'{preload}\n<link rel="preconnect" href="https://i.gremicdn.pl">\n'
        f"<style>{noise.css()}</style>\n"
        f"{noise.head_scripts(r, page_view)}\n"
        f'<script type="application/ld+json">{_script_json(jsonld(a))}</script>\n'
        "</head>"
    )


# --- header pieces shared by both templates ---------------------------------------------------


def breadcrumb(a: Article) -> str:
    crumbs = [("/wydarzenia", "Wydarzenia"), ("/wydarzenia/swiat", "Świat")]
    last = (SECTION_PATH if a.section_slug == "dyplomacja" else f"/{a.section_slug}",
            a.section_label)
    items = "".join(f'<li class="item"><a href="{p}"> {t} </a></li>' for p, t in crumbs)
    return (
        '<ul class="breadcrumb--component  "><li class="item"><a href="/">'
        '<span class="breadcrumb--icon--rp icon-rp"></span></a></li>'
        f'{items}<li class="item"><a href="{last[0]}" class="red"> {A(last[1])} </a></li></ul>'
    )


def meta_line(a: Article, cls: str) -> str:
    # The update span is always present; hidden when there is no (visible) update, and then may
    # hold a time the reader never sees (docs/rp-anatomy.md).
    shown = a.updated is not None and a.update_visible
    upd = a.updated or a.published
    style = "" if shown else ' style="display: none"'
    return (
        f'<div class=""><p class="{cls} ">\n'
        f'<span id="liveRetainAtContainer" class="mr-3"{style}> Aktualizacja: '
        f'<span id="liveRetainAtContainerInner"> {visible_time(upd)} </span>\n</span> '
        f'Publikacja: <span id="livePublishedAtContainer"> {visible_time(a.published)} </span>'
        "\n</p></div>"
    )


def lead_image(a: Article, cls: str) -> str:
    if not a.image:
        return ""
    im = a.image
    src = A(im.url)
    return (
        f'<div class="{cls}"><picture>'
        f'<source media="(min-width: 1024px)" srcset="{src}&amp;w=1200">'
        f'<source media="(min-width: 640px)" srcset="{src}&amp;w=800">'
        f'<img src="{src}" alt="{A(im.caption)}" width="1200" height="716" '
        'class="has--dimensions"></picture>'
        f'<p class="article--media--lead"> {A(im.caption)} </p>'
        f'<p class="image--author"> Foto: {A(im.credit)} </p></div>'
    )


def byline(a: Article) -> str:
    if not a.authors:
        return ""
    parts = []
    for au in a.authors:
        parts.append(f'<a href="{au.path}"> {A(au.name)} </a>' if au.path else A(au.name))
    return (
        '<div class="row"><div class="article--content mx-auto my-0 sponsorPlacement">'
        f'<div class="author "><p class="name">\n{", ".join(parts)}\n</p></div></div></div>'
    )


# --- body blocks ------------------------------------------------------------------------------


def card_html(c: Card, n: int, gen: str) -> str:
    inner = "article--featured--text " if gen == "2025" else "pl-responsive "
    clamp = ("contentLink title line-clamp-4 sm:line-clamp-3 xl:line-clamp-2" if gen == "2025"
             else "contentLink title !line-clamp-4 sm:!line-clamp-3 xl:!line-clamp-2 md:mb-3")
    label = (f'<div class="overline--comp pb-1 md:pb-3"><a data-gtm-trigger="label" '
             f'href="{c.label_path}"> {A(c.label)} </a></div>' if c.label else "")
    return (
        f'<div data-mrf-placement="ReadMore {n}" data-gtm-placement="type:content/position:{n}/'
        f'set:manual" class="content--excerpt clear-both last">\n'
        '<div class="subtitle--border"><p class="subtitle"> Czytaj więcej </p></div>\n'
        '<div class="article"><div class="w-27 sm:w-36 md:w-48">'
        f'<a data-gtm-trigger="image" href="{c.path}" class="contentLink"><picture>'
        f'<img src="https://i.gremicdn.pl/image/free/{hashlib.md5(c.path.encode()).hexdigest()}/"'
        f' alt="" loading="lazy"></picture></a></div>\n'
        f'<div class="flex-1"><div class="{inner}">{label}\n'
        f'<a data-gtm-trigger="title" class="{clamp}" href="{c.path}"> {A(c.title)} </a>\n'
        f'<div class="hidden md:block"><p class="lead line-clamp-2"> {A(c.lead)} </p></div>'
        "</div></div></div></div>"
    )


# Blocks that are one element: kind -> (tag, class in the 2026 template, in the 2025 one).
_ONE_ELEMENT = {
    "p": ("p", "block--paragraph article--paragraph--text", "article--paragraph"),
    "h2": ("h2", "block--header clear-both", "article--header"),
    "list": ("div", "block--list clear-both", "article--list"),
}


def block_html(b: Block, bid: str, gen: str, n_card: int) -> str:
    new = gen == "2026"
    if b.kind in _ONE_ELEMENT:
        tag, cls_2026, cls_2025 = _ONE_ELEMENT[b.kind]
        inner = b.html if b.kind != "list" else "<ul>" + "".join(
            f"<li>{i}</li>" for i in b.items) + "</ul>"
        cls = cls_2026 if new else cls_2025
        return f'<{tag} class="articleBodyBlock {cls}" id="{bid}">{inner}</{tag}>'
    if b.kind == "question":
        return (f'<h3 class="articleBodyBlock block--question--header clear-both" id="{bid}">'
                f"{b.html}</h3>")
    if b.kind == "card":
        cls = "articleBodyBlock block--content--excerpt clear-both" if new else "articleBodyBlock"
        return f'<div class="{cls}" id="{bid}">\n{card_html(b.card, n_card, gen)}\n</div>'
    if b.kind == "quote":
        return (f'<div class="articleBodyBlock block--quote clear-both" id="{bid}">'
                f'<blockquote class="quote--text"><p>{b.html}</p></blockquote>'
                f'<p class="quote--author">{A(b.attribution)}</p></div>')
    if b.kind == "embed" and not b.src:
        return (f'<div class="articleBodyBlock block--inner--code article--paragraph--text '
                f'clear-both" id="{bid}">\n</div>')
    if b.kind == "embed":
        return (f'<div class="articleBodyBlock block--inner--code article--paragraph--text '
                f'clear-both" id="{bid}"><div class="embed iframe"><iframe src="{A(b.src)}" '
                'width="560" height="315" frameborder="0" allowfullscreen loading="lazy">'
                "</iframe></div></div>")
    if b.kind == "infographic":
        return (
            f'<div class="articleBodyBlock block--media--infographic clear-both" id="{bid}">'
            '<div class="relative"><picture>'
            f'<img data-srcset="{A(b.src)}" src="data:image/svg+xml,%3Csvg%20xmlns=\'http://www.'
            "w3.org/2000/svg'%20viewBox='0%200%20564%200'%3E%3C/svg%3E\" alt=\""
            f'{A(b.title)}" class="has--dimensions mx-auto lazyLoad" width="564" height="0">'
            '</picture><button type="button" class="gallery--fullscreen imgFullscreen">'
            '<span class="icon-fullscreen"></span></button>'
            '<picture class="imgFullscreenPicture"></picture></div><div class="mb-3"></div>'
            f'<p class="article--media--title"> {A(b.title)} </p>'
            f'<p class="image--author"> Foto: {A(b.credit)} </p></div>'
        )
    return ""


def served_pairs(a: Article, ids: list[str], preview: bool = False) -> list[tuple[Block, str]]:
    """(block, block id) pairs the page carries, by position (a block can occur twice)."""
    pairs = list(zip(a.blocks, ids, strict=True))
    if preview:
        return [p for p in pairs if p[0].kind == "p"][: a.preview_paragraphs]
    if a.paywall == "layer_partial":
        return pairs[: a.partial_blocks]
    return pairs


def _segments(blocks: list[tuple[Block, str]]) -> list[list[tuple[Block, str]]]:
    segs: list[list] = [[]]
    for b, bid in blocks:
        if b.kind == "split":
            if segs[-1]:
                segs.append([])
        else:
            segs[-1].append((b, bid))
    return [s for s in segs if s] or [[]]


def body_inner(pairs: list[tuple[Block, str]], gen: str, r: random.Random, counter: list[int],
               video: bool) -> str:
    """Blocks with the noise the real body carries: video player, ads, promos, inline
    scripts/styles, and (2026) breaker placeholders."""
    out = []
    for i, (b, bid) in enumerate(pairs):
        if b.kind == "card":
            counter[0] += 1
        if b.kind == "split":  # only reaches here in 2026: an in-body ad breaker
            out.append('<div class="bodyBreakerPlaceholder"></div>' +
                       noise.ad("advertOuterSlotIntext" + str(r.randint(1, 4)),
                                "mobile-min-height-400"))
            continue
        out.append(block_html(b, bid, gen, counter[0]))
        if video and i == 0:
            out.append(noise.intext_video(r))
        elif i == 3:
            out.append(noise.marketing(r))
        elif i == 5:
            out.append(f"<style>#{bid}+.bodyBreakerPlaceholder{{min-height:{r.randint(0, 9)}px}}"
                       "</style><script>window.rpBodyBlocks=(window.rpBodyBlocks||0)+1;</script>")
        if gen == "2026":
            out.append('<div class="bodyBreakerPlaceholder"></div>')
    return "\n".join(out)


def article_footer(a: Article) -> str:
    socials = "".join(
        f'<a class="link" href="{u}" data-mrf-placement="{n}" target="_blank" '
        f'rel="noopener noreferrer"><span class="icon-{i}"></span></a>'
        for n, i, u in [
            ("Facebook", "facebook", "https://www.facebook.com/sharer/sharer.php?u=" + RP + a.path),
            ("LinkedIn", "linkedin", "https://www.linkedin.com/sharing/share-offsite/?url=" +
             RP + a.path),
            ("Twitter", "x-twitter", "https://twitter.com/intent/tweet?url=" + RP + a.path),
        ])
    return (
        '<div class="article--footer"><div class="w-full md:w-2/4"><p class="t--30">'
        '<a href="/licencja"> © Licencja na publikację </a><br>'
        '<a href="/wszystkie-prawa-zastrzezone"> © ℗ Wszystkie prawa zastrzeżone </a><br>'
        ' Źródło: rp.pl </p></div>'
        '<div data-mrf-section="Article / Socials" data-gtm-section="page:article/'
        f'section:socials" class="socials--component -footer">{socials}</div></div>'
    )


def tags_html(a: Article, gen: str) -> str:
    from .text import slugify

    cls = "tag--comp" if gen == "2025" else "btn--tag"
    def tag_id(t: str) -> int:
        return 1000 + int(hashlib.md5(t.encode()).hexdigest()[:5], 16)

    links = "\n".join(
        f'<a data-mrf-placement="{i}" data-gtm-placement="type:tag/position:{i}/set:manual" '
        f'data-gtm-trigger="name" href="/tag/{tag_id(t)}-{slugify(t)}" class="{cls}"> {A(t)} </a>'
        for i, t in enumerate(a.tags, 1))
    if gen == "2025":
        return ('<div data-mrf-section="Article / Tags" data-gtm-section="page:article/section:'
                f'tags" class="border--y pt-6 pb-3">\n{links}\n</div>')
    return ('<div data-mrf-section="Article / Tags" data-gtm-section="page:article/section:tags"'
            f' class="toggleContainer" id="tagsTab" data-id="tags" style="display: none;">\n'
            f"{links}\n</div>")


# --- related tabs -----------------------------------------------------------------------------


def _teaser(n: int, label: str, title: str, path: str, lead: str, tab: str) -> str:
    label_path = SECTION_PATH if label == "Dyplomacja" else "/materialy-partnera"
    return (
        f'<div class="teaser--item" data-mrf-placement="{tab} {n}">'
        f'<a data-gtm-trigger="image" href="{path}" class="contentLink"><picture>'
        f'<img src="https://i.gremicdn.pl/image/free/{hashlib.md5(path.encode()).hexdigest()}/"'
        ' alt="" loading="lazy"></picture></a>'
        f'<div class="overline--comp"><a data-gtm-trigger="label" href="{label_path}"> '
        f"{A(label)} </a></div>"
        f'<a data-gtm-trigger="title" class="contentLink title" href="{path}"> {A(title)} </a>'
        f'<p class="lead"> {A(_cut(plain(lead), 120))} </p></div>'
    )


def _pick(pool: list, k: int, r: random.Random, skip: str) -> list:
    """k random teasers other than the page's own article (without scanning a 5,000 pool)."""
    return [x for x in r.sample(pool, min(k + 1, len(pool))) if x.article_id != skip][:k]


def related_tabs(site, a: Article, r: random.Random, gen: str) -> str:
    pool = site.teaser_pool()
    promo = next((o for o in site.others.values() if o.section_label == "Materiał Promocyjny"),
                 None)
    promo_item = ("Materiał Promocyjny", promo.title, promo.path, promo.lead) if promo else None

    def items_from(arts):
        return [("Dyplomacja", x.title, x.path, x.lead) for x in arts]

    if a.related_items:
        by_path = {x.path: x for x in [*pool, *site.others.values()]}
        related = [(lab, t, p, by_path[p].lead if p in by_path else "")
                   for lab, t, p in a.related_items]
    else:
        related = items_from(_pick(pool, 5, r, a.article_id))
        if promo_item:
            related.insert(r.randint(1, len(related)), promo_item)
    recommended = items_from(_pick(pool, 8, r, a.article_id))
    if promo_item:
        recommended.insert(2, promo_item)
    latest = items_from([x for x in pool[:11] if x.article_id != a.article_id][:10])
    tabs = [("related", "Powiązane", related), ("recommended", "Polecane", recommended),
            ("latest", "Najnowsze", latest)]
    nav = "".join(f'<li class="tab{" -active" if i == 0 else ""}" data-tab="{k}">{t}</li>'
                  for i, (k, t, _) in enumerate(tabs))
    if gen == "2026":
        nav += '<li class="tab" data-tab="tags">Tagi</li>'
    panes = []
    for i, (key, title, items) in enumerate(tabs):
        body = "\n".join(_teaser(n, *it, tab=title) for n, it in enumerate(items, 1))
        style = "" if i == 0 else ' style="display: none;"'
        panes.append(f'<div class="toggleContainer" id="{key}Tab" data-id="{key}"{style}>'
                     f"\n{body}\n</div>")
    if gen == "2026":
        panes.append(tags_html(a, gen))
    return ('<div class="related--tabs" data-mrf-section="Article / Related">'
            f'<ul class="tabs--nav">{nav}</ul>\n' + "\n".join(panes) + "</div>")


# --- paywall pieces ---------------------------------------------------------------------------


def marker(a: Article) -> str:
    word = "Pozostało jeszcze" if a.marker_style == "jeszcze" else "Pozostało"
    return (f'<div class="paywallIntroBodyPercent body--remaining--percent">\n'
            f'<span class="icon icon-ring2"></span> {word} {a.paywall_percent}% artykułu </div>')


def meter(r: random.Random) -> str:
    left = r.randint(0, 2)
    return (
        '<div data-mrf-section="Article / Body" data-mrf-placement="Paywall Belka Preview" '
        'data-gtm-section="page:article/section:body" data-gtm-placement="type:paywall/position:'
        'preview/set:manual" class="paywallInfoElem paywall--counter ">'
        '<div class="circle"><div class="icon"><span class="icon-rp"></span></div>'
        f'<div class="counter"> {3 - left} / 3 </div><div class="caption--comp"> artykułów </div>'
        '</div><div class="text"><div class="bg"> Czytaj dalej. <a data-gtm-trigger="button" '
        'href="https://partner.rp.pl/subskrypcja" class="btn btn--main shopBuyTrigger" '
        'rel="nofollow"> Subskrybuj </a></div></div></div>\n'
        '<div data-paywall-info data-paywall-reason="preview_limit_not_exceeded" '
        f'data-access-level="0" data-remaining-limit="{left}" data-max-limit="3" '
        'data-static-outcome="show-meter"></div>'
    )


def preview_wrapper(a: Article, ids: list[str], r: random.Random, *, hard: bool,
                    site=None) -> str:
    # The preview repeats the opening paragraphs with their block ids (a copy, not a move).
    paras = "\n".join(block_html(b, bid, "2025", 0) for b, bid in served_pairs(a, ids, True))
    parts = [
        '<div class="paywallNoAccessWrapperOuter"><div class="row">'
        '<div class="paywallRightAdvertWrapper w-81 lg:block hidden relative '
        'commercial--margin--article"><div class="ad--item--before--space"></div>'
        f'<div class="desktopStickyElement -article ad--item">{noise.ad("advertOuterSlotRight2")}'
        '</div></div>'
        '<div data-mrf-section="Article / Body" data-gtm-section="page:article/section:body" '
        'class="col--fill order-first lg:border--right paywallWrapper relative">'
        '<div class="paywallNoAccessWrapper"><div class="row">'
        '<div class="article--content mx-auto my-0">'
        '<div class="paywallIntroBodyText body"><div class="intro--body--text--fadeOut">\n'
        f"{paras}\n</div></div>"
    ]
    if hard:
        teasers = ""
        if site is not None:
            teasers = "".join(
                f'<div class="paywall--teaser"><a class="contentLink title" href="{x.path}">'
                f'{A(x.title)}</a><p class="lead">{A(_cut(plain(x.lead), 140))}</p></div>'
                for x in _pick(site.teaser_pool(), 4, r, a.article_id))
        parts.append(
            '</div></div></div><div class="paywall--hard"><p class="paywall--hard--title">'
            "Ten artykuł jest dostępny tylko dla subskrybentów</p>"
            '<p class="paywall--login">Masz aktywną subskrypcję? <a href="https://profil.'
            'presspublica.pl/login" rel="nofollow">Zaloguj się</a> lub <a href="https://sklep.'
            'rp.pl/" rel="nofollow">wybierz pakiet</a>.</p>'
            f'<div class="paywall--teasers"><p class="subtitle">Czytaj także</p>{teasers}</div>'
            "</div>")
    else:
        parts.append(
            f'<div class="intext--video lg:hidden">{noise.ad("advertOuterSlotVideo")}</div>\n'
            f"{marker(a)}\n</div></div></div>"
            '<div class="row"><div class="article--content mx-auto my-0">'
            f"{meter(r)}</div></div>"
            f'<div id="paywallBottomAdvert" style="display: none">'
            f'{noise.ad("advertOuterSlotPaywall", "mobile-min-height-400")}</div>')
    parts.append("</div></div></div>")
    return "\n".join(parts)


# --- the two templates ------------------------------------------------------------------------


def page_view(a: Article) -> dict:
    return {"articleId": int(a.article_id), "articleTitle": plain(a.title),
            "articleCategory": {"id": 1187, "name": a.section_label},
            "productType": "STANDARD", "accessLevel": 1 if a.paywalled else 0,
            "publishedDate": warsaw_iso(a.published),
            "author": [{"id": au.author_id or 0, "name": au.name} for au in a.authors]}


def article_2025(site, a: Article, r: random.Random, ids: list[str]) -> str:
    pv = page_view(a)
    top = (
        f"<div class=\"container common--pt\" data-page-view-event='{_jsonattr(pv)}'>\n"
        '<div class="row"><div class="w-81 lg:block hidden relative commercial--margin--article">'
        f'<div class="desktopStickyElement -article ad--item --first">'
        f'{noise.ad("advertOuterSlotRight1")}</div></div>\n'
        '<div class="col--fill order-first lg:border--right">\n'
        f"{breadcrumb(a)}\n"
        f'<div class=""><h1 class="blog--title articleTitle "> {A(a.title)} </h1></div>\n'
        f'<div class=""><div class="blog--subtitle "> {A(a.lead)} <br></div></div>\n'
        f'{meta_line(a, "blog--meta")}\n{lead_image(a, "blog--image")}\n{byline(a)}\n'
        "</div></div></div>"
    )
    hard = a.paywall == "hard"
    preview_only = a.preview_served and not hard
    footer_tags = f'<div class="clear-both"></div>{article_footer(a)}\n{tags_html(a, "2025")}'
    sections = []
    if not (hard or preview_only):
        segs = _segments(served_pairs(a, ids))
        counter = [0]
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            space = '<div class="ad--item--before--space"></div>' if i == 0 else ""
            sections.append(
                '<div class="row"><div class="w-81 lg:block hidden relative '
                f'commercial--margin--article">{space}<div class="desktopStickyElement -article '
                f'ad--item ">{noise.ad(f"advertOuterSlotRight{i + 2}")}</div></div>\n'
                '<div class="col--fill order-first lg:border--right"><div class="row relative">'
                '<div class="article--content mx-auto my-0 ">\n'
                '<div data-mrf-section="Article / Body" data-gtm-section="page:article/section:'
                f'body" class="body articleBody {"" if last else "-bottom-space"}">\n'
                f"{body_inner(seg, '2025', r, counter, video=i == 0)}\n</div>\n"
                f'{footer_tags if last else ""}</div></div></div></div>')
            if not last:
                sections.append(
                    '<div class="row"><div class="col--fill"><div class="contentBodySectionAdvert'
                    f' section--ad--breaker">'
                    f'{noise.ad(f"advertOuterSlotIntext{i + 1}", "mobile-min-height-400")}'
                    "</div></div></div>")
    # Pages without the full copy (hard paywall, preview-only) carry no access wrapper at all.
    access = ('<div class="paywallAccessWrapper contentBodySections">\n' + "\n".join(sections) +
              "\n</div>") if sections else ""
    tail = ""
    if hard:
        tail = preview_wrapper(a, ids, r, hard=True, site=site) + footer_tags
    elif a.paywall == "meter":
        tail = preview_wrapper(a, ids, r, hard=False)
        if preview_only:
            tail += footer_tags
    return (f"{top}\n<div class=\"main--content--body\">\n{access}\n{tail}\n</div>\n"
            f"{related_tabs(site, a, r, '2025')}")


def article_2026(site, a: Article, r: random.Random, ids: list[str]) -> str:
    pairs = served_pairs(a, ids, preview=a.preview_served)
    ptype = {"open": "", "layer": "need_normal_access", "layer_partial": "preview",
             "hard": "need_premium_access", "meter": "preview"}[a.paywall]
    return (
        f"<div class=\"container\" data-page-view-event='{_jsonattr(page_view(a))}'>"
        '<div class="row"><div class="col--fill leftColumnBodyWrapper">\n'
        f"{breadcrumb(a)}\n"
        f'<div class=""><h1 class="article--title articleTitle "> {A(a.title)} </h1></div>\n'
        f'<div class=""><div class="article--lead "> {A(a.lead)} <br></div></div>\n'
        f'{meta_line(a, "article--meta")}\n{lead_image(a, "article--image")}\n{byline(a)}\n'
        '<div class="main--content--body "><div class="paywallAccessWrapper">'
        '<div class="row relative"><div class="article--content mx-auto my-0 "><div>\n'
        '<div data-mrf-section="Article / Body" data-gtm-section="page:article/section:body" '
        'class="body articleBody -new-header-block" data-sticky-class="">\n'
        f"{body_inner(pairs, '2026', r, [0], video=True)}\n</div></div>\n"
        f'<div class="clear-both"></div>{article_footer(a)}\n</div></div></div></div>\n'
        '<div class="main--content--after--body paywallWrapper relative">'
        f'<div class="paywallLayerWrapper" data-paywall-type="{ptype}"></div></div>\n'
        f"{related_tabs(site, a, r, '2026')}\n</div>"
        f'<div class="w-81 lg:block hidden relative commercial--margin--article">'
        f'{noise.ad("advertOuterSlotRight1")}</div></div></div>'
    )


def article_page(site, a: Article) -> str:
    """The full HTML of an article page (with www.rp.pl links; see rebase())."""
    r = furniture_rng(a)
    ids = _block_ids(a)
    body = (article_2025 if a.template == "2025" else article_2026)(site, a, r, ids)
    pool = site.teaser_pool()
    teasers = [(x.title, x.path) for x in r.sample(pool, min(30, len(pool)))]
    cls = "page--article -blog" if a.template == "2025" else "page--article"
    page = (
        '<!DOCTYPE html>\n<html lang="pl">\n'
        f"{head(a, r, page_view(a))}\n<body class=\"{cls}\">\n{noise.svg_sprite()}\n"
        f"{noise.header()}\n<main class=\"main--component\">\n{body}\n</main>\n"
        f"{noise.footer()}\n<script>window.__RP_CONFIG__={noise.app_config(r, teasers)};</script>\n"
        '<script>(function(){var h=document.head;if(h.dataset.paywallPresent==="true"){'
        'document.querySelectorAll(".paywallLayerWrapper").forEach(function(e){'
        'e.dataset.ready="1";});}})();</script>\n'
    )
    missing = site.min_page_bytes - len(page.encode())
    if missing > 0:
        pad = noise.mixed_furniture if site.padding == "mixed" else noise.padding_script
        page += pad(r, missing + 64)
    return page + "\n</body>\n</html>\n"


# --- other endpoints --------------------------------------------------------------------------


def _simple_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="pl">\n<head><meta charset="utf-8">'
        f"<title>{A(title)} - rp.pl</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>\n'
        f'<body>{noise.header()}<main class="main--component">{body}</main>{noise.footer()}'
        "</body>\n</html>\n"
    )


def error_page(status: int) -> str:
    if status == 410:
        title, text = "Artykuł usunięty", "Ten artykuł został usunięty z serwisu."
    else:
        title, text = "Nie znaleziono strony", "Strona, której szukasz, nie istnieje."
    return _simple_page(title, f'<div class="error--page"><p class="error--code">{status}</p>'
                               f'<h1 class="error--title">{title}</h1><p>{text}</p>'
                               '<a href="/">Wróć na stronę główną</a></div>')


def interstitial(kind: str = "consent") -> str:
    if kind == "subscribe":
        body = ('<div class="paywall--interstitial"><h1>Ten artykuł jest dostępny tylko dla '
                'subskrybentów</h1><p>Subskrybuj „Rzeczpospolitą”, aby czytać dalej.</p>'
                '<a class="btn" href="https://sklep.rp.pl/">Subskrybuj</a>'
                '<p>Masz aktywną subskrypcję? <a href="https://profil.presspublica.pl/login">'
                "Zaloguj się</a></p></div>")
        return _simple_page("Subskrybuj", body)
    body = ('<div class="consent--interstitial"><h1>Zanim przejdziesz do serwisu</h1>'
            "<p>Szanowny Czytelniku, wykorzystujemy pliki cookies i podobne technologie. "
            "Kliknij „Przejdź do serwisu”, aby wyrazić zgodę.</p>"
            '<button class="btn" data-consent="accept">Przejdź do serwisu</button></div>')
    return _simple_page("Twoja prywatność", body)


def _listing_card(path: str, title: str, lead: str, when: datetime | None, label: str,
                  label_path: str) -> str:
    date = f'<p class="date"> {visible_time(when)} </p>' if when else ""
    return (
        '<div class="teaser--item -list" data-mrf-placement="List">'
        f'<a data-gtm-trigger="image" href="{A(path)}" class="contentLink"><picture>'
        f'<img src="https://i.gremicdn.pl/image/free/{hashlib.md5(path.encode()).hexdigest()}/"'
        ' alt="" loading="lazy"></picture></a>'
        f'<div class="overline--comp"><a href="{label_path}"> {A(label)} </a></div>'
        f'<a data-gtm-trigger="title" class="contentLink title" href="{A(path)}"> {A(title)} </a>'
        f'<p class="lead"> {A(_cut(plain(lead), 160))} </p>{date}</div>'
    )


def listing_cards(site, page: int) -> tuple[str, bool]:
    """Cards of one listing page (newest first) and whether a next page exists."""
    live = site.live_articles()
    size = site.page_size
    chunk = live[(page - 1) * size: page * size]
    cards = []
    others = list(site.others.values())
    for i, x in enumerate(chunk):
        cards.append(_listing_card(x.path, x.title, x.lead, x.published, "Dyplomacja",
                                   SECTION_PATH))
        if page == 1 and i == 0 and site.listing_variants:
            # The same article under several URLs: query, fragment, trailing slash, other slug.
            for variant in (x.path + "?utm_source=x", x.path + "#komentarze", x.path + "/",
                            f"/dyplomacja/art{x.article_id}-inny-slug"):
                cards.append(_listing_card(variant, x.title, x.lead, x.published, "Dyplomacja",
                                           SECTION_PATH))
        if i == 3 and others:  # a card of another section
            o = others[(page + i) % len(others)]
            cards.append(_listing_card(o.path, o.title, o.lead, o.published, o.section_label,
                                       f"/{o.section_slug}"))
        if i == 6:  # a card of a sister host
            cards.append(_listing_card(
                f"https://historia.rp.pl/historia/art{39000000 + page}-dyplomacja-w-dawnej-"
                "polsce", "Dyplomacja w dawnej Polsce", "Jak posłowie Rzeczypospolitej...",
                None, "Historia", "https://historia.rp.pl/historia"))
    return "\n".join(cards), page * size < len(live)


def listing_page(site, page: int) -> str:
    cards, has_next = listing_cards(site, page)
    nav = []
    if page > 1:
        nav.append(f'<a class="pagination--prev" rel="prev" href="/dyplomacja?page={page - 1}">'
                   "Poprzednia</a>")
    nav.append(f'<span class="pagination--current">{page}</span>')
    if has_next:
        nav.append(f'<a class="pagination--next" rel="next" href="/dyplomacja?page={page + 1}">'
                   "Następna strona</a>")
    body = (f'{breadcrumb_section()}<h1 class="section--title">Dyplomacja</h1>'
            f'<div class="contentList" data-mrf-section="Section / List">\n{cards}\n</div>'
            f'<div class="pagination--component">{"".join(nav)}</div>')
    return _simple_page("Dyplomacja", body)


def breadcrumb_section() -> str:
    return ('<ul class="breadcrumb--component"><li class="item"><a href="/">rp.pl</a></li>'
            '<li class="item"><a href="/wydarzenia/swiat">Świat</a></li></ul>')


def home_page(site) -> str:
    cards = "\n".join(_listing_card(x.path, x.title, x.lead, x.published, "Dyplomacja",
                                    SECTION_PATH) for x in site.live_articles()[:8])
    return _simple_page("Rzeczpospolita - Najważniejsze wiadomości z Polski i ze świata",
                        f'<a href="/dyplomacja">Dyplomacja</a><div class="contentList">{cards}'
                        "</div>")


def _lastmod(a: Article) -> str:
    # The CMS's own modification time: edits show here even when no "Aktualizacja" is shown.
    return a.last_modified.astimezone(WARSAW).isoformat(timespec="seconds")


def _feed_items(site, limit: int) -> list[Article]:
    items = site.live_articles()[:limit] + list(site.others.values())
    return sorted(items, key=lambda x: x.published, reverse=True)


XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def sitemap_chunks(site) -> list[list[Article]]:
    live = site.live_articles()
    return [live[i:i + 1000] for i in range(0, len(live), 1000)] or [[]]


def sitemap_index(site) -> str:
    names = ["news-sitemap.xml", "sitemap-polityka.xml", "sitemap-sections.xml"]
    names += [f"sitemap-dyplomacja-{i}.xml" for i in range(1, len(sitemap_chunks(site)) + 1)]
    now = datetime(2026, 11, 27, tzinfo=UTC).isoformat()
    entries = "".join(f"<sitemap><loc>{RP}/sitemaps/{n}</loc><lastmod>{now}</lastmod></sitemap>\n"
                      for n in names)
    return (XML_HEAD + '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + entries + "</sitemapindex>\n")


def news_sitemap(site) -> str:
    urls = []
    for x in _feed_items(site, 1000):
        urls.append(
            f"<url><loc>{RP}{x.path}</loc><news:news><news:publication>"
            "<news:name>Rzeczpospolita</news:name><news:language>pl</news:language>"
            f"</news:publication><news:publication_date>{warsaw_iso(x.published)}"
            f"</news:publication_date><news:title>{A(plain(x.title), quote=False)}</news:title>"
            f"<news:keywords>{A(', '.join(x.tags), quote=False)}</news:keywords></news:news>"
            + (f"<image:image><image:loc>{A(x.image.url)}</image:loc></image:image>"
               if x.image else "") + "</url>")
    return (XML_HEAD + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
            'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">\n'
            + "\n".join(urls) + "\n</urlset>\n")


def urlset(locs: list[tuple[str, str | None]]) -> str:
    rows = "".join(f"<url><loc>{A(loc)}</loc>" + (f"<lastmod>{lm}</lastmod>" if lm else "")
                   + "</url>\n" for loc, lm in locs)
    return (XML_HEAD + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + rows
            + "</urlset>\n")


def other_sitemap(site, name: str) -> str | None:
    if name == "sitemap-polityka.xml":
        return urlset([(RP + o.path, _lastmod(o)) for o in site.others.values()])
    if name == "sitemap-sections.xml":
        return urlset([(RP + p, None) for p in ("/", "/dyplomacja", "/polityka", "/swiat",
                                                "/publicystyka", "/konflikty-zbrojne")])
    m = re.fullmatch(r"sitemap-dyplomacja-(\d+)\.xml", name)
    if m:
        chunks = sitemap_chunks(site)
        k = int(m.group(1))
        if 1 <= k <= len(chunks):
            return urlset([(RP + x.path, _lastmod(x)) for x in chunks[k - 1]])
    return None


def rss(site) -> str:
    items = []
    for x in _feed_items(site, 30):
        when = x.published.replace(tzinfo=WARSAW)
        creator = "".join(f"<dc:creator>{A(au.name)}</dc:creator>" for au in x.authors)
        items.append(
            f"<item><title>{A(plain(x.title), quote=False)}</title><link>{RP}{x.path}</link>"
            f'<guid isPermaLink="true">{RP}{x.path}</guid>'
            f"<description><![CDATA[{plain(x.lead)}]]></description>"
            f"<pubDate>{format_datetime(when)}</pubDate><category>{A(x.section_label)}"
            f"</category>{creator}</item>")
    return (XML_HEAD + '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>Rzeczpospolita</title><link>{RP}/</link>"
            f'<atom:link href="{RP}/rss_main" rel="self" type="application/rss+xml"/>'
            "<description>Najważniejsze wiadomości z Polski i ze świata</description>"
            "<language>pl</language>\n" + "\n".join(items) + "\n</channel></rss>\n")


# --- post-processing --------------------------------------------------------------------------

RENAMED_IDS = ("liveRetainAtContainerInner", "liveRetainAtContainer", "livePublishedAtContainer",
               "intextVideo", "tagsTab", "paywallBottomAdvert")
CLASS_ATTR = re.compile(r'class="([^"]*)"')


def _renamed(token: str) -> str:
    return "rd-" + hashlib.sha1(token.encode()).hexdigest()[:7]


def redesign(page: str, renames: dict[str, str] | None, ids: bool) -> str:
    """Layout drift: rename classes (all of them, or only those in `renames`) and the known ids;
    JSON-LD, meta tags, data-* attributes and visible text stay as they were."""
    def sub(m: re.Match) -> str:
        toks = m.group(1).split()
        if renames is None:
            new = [_renamed(t) for t in toks]
        else:
            new = [renames.get(t, t) for t in toks]
        return f'class="{" ".join(new)}"'

    page = CLASS_ATTR.sub(sub, page)
    if ids:
        for name in RENAMED_IDS:
            page = page.replace(f'id="{name}"', f'id="{_renamed(name)}"')
    return page


REAL_LINKS = ("head", "all")


def check_real_links(real_links: str | None) -> str | None:
    if real_links not in (None, *REAL_LINKS):
        raise ValueError(f"real_links must be one of {REAL_LINKS} or None, not {real_links!r}")
    return real_links


def rebase(text: str, base_url: str, real_links: str | None = None) -> str:
    """Point the page's www.rp.pl links at `base_url`. `real_links` keeps the real site's links
    as a mirror or a saved copy does: "head" in the page's head (canonical, og:url, JSON-LD),
    "all" everywhere (listings, sitemaps, RSS and in-body links too)."""
    if base_url == RP or check_real_links(real_links) == "all":
        return text
    if real_links == "head":
        head, end, rest = text.partition("</head>")
        if end:
            return head + end + rest.replace(RP, base_url)
    return text.replace(RP, base_url)
