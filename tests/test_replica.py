"""The replica itself: real HTTP requests (urllib) against tests.replica.ReplicaServer.

A small reference extractor (lxml, below) reads every page back and must agree with each
article's `expected_record()`: this is what keeps the ground truth honest.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import lxml.html
import pytest

from tests.replica import ReplicaServer, ReplicaSite
from tests.replica.model import plain

REQUIRED = [
    "seed", "meter_2025_jeszcze", "split_containers", "full_2026", "embed_2026", "infographic",
    "visible_update", "jsonld_dates_disagree", "layer_no_marker_2026", "layer_partial_2026",
    "hard_paywall", "hidden_update", "visible_update_2025", "jsonld_no_update_2025",
    "dst_spring_before", "dst_spring_after", "dst_autumn_before", "dst_autumn_after",
    "several_authors", "no_author", "initials_only", "list_2026", "list_2025", "embed_2025",
    "interview", "card_twice", "nbsp_quotes_speech", "robots_disallowed", "pull_quote",
]
SEED = "40671561"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url: str, headers: dict | None = None, timeout: float = 5):
    """(status, headers, body) without raising on 4xx/5xx and without following redirects."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def get_html(server, path: str) -> str:
    status, _, body = fetch(server.url(path))
    assert status == 200, path
    return body.decode("utf-8")


# --- a reference extractor, just enough to cross-check the ground truth ---------------------


def extract(page: str) -> dict:
    doc = lxml.html.fromstring(page)

    def texts(sel):
        return [plain(lxml.html.tostring(e, encoding="unicode")) for e in doc.cssselect(sel)]

    blocks = []
    for e in doc.cssselect(".paywallAccessWrapper .articleBody .articleBodyBlock"):
        cls = e.get("class")
        if e.tag in ("p", "h2", "h3"):
            blocks.append(plain(lxml.html.tostring(e, encoding="unicode")))
        elif "list" in cls:
            blocks += [plain(lxml.html.tostring(li, encoding="unicode")) for li in e.iter("li")]
    if not blocks:
        blocks = texts(".paywallIntroBodyText p")
    marker = texts(".paywallIntroBodyPercent")
    meta = doc.cssselect("p.blog--meta, p.article--meta")[0]
    upd = meta.cssselect("#liveRetainAtContainer")[0]
    jsonld = json.loads(doc.cssselect('script[type="application/ld+json"]')[0].text)
    names = texts(".author p.name")
    cards, seen = [], set()
    for c in doc.cssselect(".articleBody .content--excerpt a.title"):
        if c.get("href") not in seen:
            seen.add(c.get("href"))
            cards.append(c.get("href"))
    return {
        "title": texts("h1.articleTitle")[0],
        "lead": texts(".blog--subtitle, .article--lead")[0],
        "body_blocks": blocks,
        "published": texts("#livePublishedAtContainer")[0],
        "updated": None if "display: none" in (upd.get("style") or "")
        else texts("#liveRetainAtContainerInner")[0],
        "percent": int(re.search(r"(\d+)%", marker[0]).group(1)) if marker else None,
        "authors": [x.strip() for x in names[0].split(",")] if names else [],
        "tags": texts('[data-mrf-section="Article / Tags"] a'),
        "credit": (texts(".blog--image .image--author, .article--image .image--author") or [""])[0],
        "caption": (texts(".blog--image .article--media--lead, .article--image "
                          ".article--media--lead") or [""])[0],
        "cards": cards,
        "jsonld": jsonld,
        "paywall_present": doc.cssselect("head")[0].get("data-paywall-present"),
        "doc": doc,
    }


def check_against_truth(server, article_id: str) -> dict:
    exp = server.expected(article_id)
    page = get_html(server, server.site.article(article_id).path)
    got = extract(page)
    assert got["title"] == exp["title"]
    assert got["lead"] == exp["lead"]
    assert got["body_blocks"] == exp["body_blocks"]
    pub = datetime.fromisoformat(exp["published_at"])
    assert got["published"] == pub.strftime("%d.%m.%Y %H:%M")
    if exp["updated_at"]:
        upd = datetime.fromisoformat(exp["updated_at"]).strftime("%d.%m.%Y %H:%M")
        assert got["updated"] == upd
    else:
        assert got["updated"] is None
    assert got["percent"] == exp["paywall_percent"]
    assert got["authors"] == exp["authors"]
    assert got["tags"] == exp["tags"]
    assert got["credit"] == "Foto: " + exp["image"]["credit"]
    assert got["caption"] == exp["image"]["caption"]
    # Cards link relative paths; a parser resolves them against the page's canonical link.
    assert [server.link_base + c for c in got["cards"]] == [r["url"] for r in exp["related"]]
    assert got["jsonld"]["headline"] == exp["title"]
    return got


# --- site model -------------------------------------------------------------------------------


def test_default_site_builds_fast_and_deterministically():
    t0 = time.perf_counter()
    site = ReplicaSite.default()
    assert time.perf_counter() - t0 < 1.0
    assert len(site) >= 25
    again = ReplicaSite.default()
    a, b = site.article(SEED), again.article(SEED)
    assert site.render(a) == again.render(b)
    assert {x.template for x in site.articles} == {"2025", "2026"}


def test_default_site_content_is_frozen():
    """Other suites snapshot the default site's pages (tests/fixtures/pages/replica-*): any
    change of its ground truth must be deliberate, announced, and the snapshots regenerated."""
    import hashlib

    site = ReplicaSite.default()
    records = [site.expected(a.article_id)
               for a in sorted(site.articles, key=lambda a: a.article_id)]
    raw = json.dumps(records, ensure_ascii=False, sort_keys=True).encode()
    assert hashlib.sha256(raw).hexdigest()[:16] == "39aa98ebff28b797"


_BIG: dict[str, ReplicaSite] = {}


def big_site() -> ReplicaSite:
    """One 5,000-article site shared by the read-only tests below."""
    if "site" not in _BIG:
        _BIG["site"] = ReplicaSite.generated(5000)
    return _BIG["site"]


def test_generated_site_scales():
    t0 = time.perf_counter()
    site = big_site()
    assert time.perf_counter() - t0 < 10.0  # ~0.5 s on an idle machine; CI boxes are busy
    assert len(site) == 5000
    ids = [a.article_id for a in site.articles]
    assert len(set(ids)) == 5000 and all(len(i) == 8 for i in ids)
    page = site.render(site.articles[2500])
    assert len(page.encode()) >= 150 * 1024


def test_every_required_case_has_its_own_article():
    site = ReplicaSite.default()
    for name in REQUIRED:
        assert site.case(name), name
    ids = {site.case(n).article_id for n in REQUIRED}
    assert len(ids) >= 20


# --- article pages ----------------------------------------------------------------------------


def test_all_article_pages_are_heavy_and_match_ground_truth(replica_session):
    server = replica_session
    for a in server.site.articles:
        status, headers, body = fetch(server.url(a.path))
        assert status == 200
        assert len(body) >= 150 * 1024, a.article_id
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        check_against_truth(server, a.article_id)


def test_seed_article(replica_session):
    server = replica_session
    exp = server.expected(SEED)
    assert exp["url"] == server.base_url + "/dyplomacja/art40671561-sekretarz-generalny-nato-" \
        "reaguje-na-pakt-obronny-zawarty-przez-rosje-i-koree-polnocna"
    page = get_html(server, server.site.article(SEED).path)
    got = extract(page)
    doc = got["doc"]
    assert doc.cssselect("h1.blog--title")
    assert got["published"] == "20.06.2024 06:01"
    assert exp["published_at"] == "2024-06-20T06:01:00+02:00"
    assert exp["authors"] == ["arb"] and not doc.cssselect(".author a")
    assert exp["image"]["credit"] == ("REUTERS/Johanna Geron, REUTERS/Maxim Shemetov, "
                                      "Sputnik/Gavriil Grigorov/Pool via REUTERS")
    assert "Pozostało 82% artykułu" in page and "jeszcze" not in got["doc"].cssselect(
        ".paywallIntroBodyPercent")[0].text_content()
    assert exp["paywall_percent"] == 82 and exp["paywalled"] and exp["body_complete"]
    body = exp["body_blocks"]
    assert body[2] == "Jens Stoltenberg ostrzega: Reżimy autorytarne wspierają się, jak nigdy dotąd"
    assert body[-1].startswith("W kontekście wydatków krajów NATO")
    assert len(body) == 9
    # The preview repeats the first two paragraphs right before the marker.
    preview = [plain(lxml.html.tostring(e, encoding="unicode"))
               for e in doc.cssselect(".paywallIntroBodyText p")]
    assert preview == body[:2]
    assert exp["related"][0]["title"] == "Andrzej Łomanowski: Antyzachodni front Putina w Azji"
    quote = doc.cssselect(".block--quote")[0].text_content()
    assert "Jeśli nie będziemy w stanie zachować pokoju" in quote
    assert "Jens Stoltenberg, sekretarz generalny NATO" in quote
    labels = [e.text_content().strip() for e in doc.cssselect("#relatedTab .overline--comp a")]
    assert labels.count("Materiał Promocyjny") == 1 and labels.count("Dyplomacja") == 5
    assert len(doc.cssselect(".articleBody")) == 2


def test_head_of_page(replica_session):
    server = replica_session
    for aid in (SEED, "44186001"):
        a = server.site.article(aid)
        doc = lxml.html.fromstring(get_html(server, a.path))
        assert doc.get("lang") == "pl"
        assert doc.findtext(".//title").endswith(" - rp.pl")
        canon = doc.cssselect('link[rel="canonical"]')[0].get("href")
        assert canon == server.base_url + a.path
        og = doc.cssselect('meta[property="og:title"]')[0].get("content")
        assert og != a.title
        assert doc.cssselect('meta[property="mrf:sections"]')[0].get("content") == "Dyplomacja"
        assert doc.cssselect('meta[property="mrf:tags"]')
        assert len(doc.cssselect('script[type="application/ld+json"]')) == 1
        ld = json.loads(doc.cssselect('script[type="application/ld+json"]')[0].text)
        assert ld["@type"] == "NewsArticle" and ld["isAccessibleForFree"] is False
        assert ld["url"].startswith(server.base_url)
        assert ld["hasPart"]["cssSelector"] == ".articleBody"
        assert doc.cssselect("#intextVideo") and "Reklama" in doc.text_content()
        assert re.fullmatch(r"block-id-[A-Za-z0-9]{10}",
                            doc.cssselect(".articleBodyBlock")[0].get("id"))


def test_templates_and_paywall_variants(replica_session):
    server, site = replica_session, replica_session.site
    full = extract(get_html(server, site.case("full_2026").path))
    assert full["paywall_present"] == "false" and full["doc"].cssselect("h1.article--title")
    assert full["doc"].cssselect(".block--inner--code iframe")
    assert "Foto: PAP" in full["doc"].cssselect(".block--media--infographic")[0].text_content()
    assert not server.expected("44186001")["paywalled"]

    layer_page = get_html(server, site.case("layer_no_marker_2026").path)
    layer = extract(layer_page)
    assert layer["paywall_present"] == "true" and "Pozostało" not in layer_page
    assert layer["doc"].cssselect(".paywallLayerWrapper")[0].text_content().strip() == ""
    exp = server.expected(site.case("layer_no_marker_2026").article_id)
    assert exp["paywalled"] and exp["paywall_percent"] is None and exp["body_complete"]

    exp = server.expected(site.case("layer_partial_2026").article_id)
    assert exp["paywalled"] and not exp["body_complete"]

    meter = get_html(server, site.case("meter_2025_jeszcze").path)
    assert re.search(r"Pozostało jeszcze 89% artykułu", meter)
    assert len(extract(meter)["doc"].cssselect(".paywallAccessWrapper .articleBody")) == 3
    assert "data-paywall-info" in meter and re.search(r"> \d / 3 <", meter)

    hard = get_html(server, site.case("hard_paywall").path)
    assert "Masz aktywną subskrypcję? <a" in hard and "Zaloguj się" in hard
    doc = lxml.html.fromstring(hard)
    assert not doc.cssselect(".paywallAccessWrapper .articleBody")
    assert doc.cssselect("#livePublishedAtContainer")
    exp = server.expected(site.case("hard_paywall").article_id)
    assert exp["paywalled"] and not exp["body_complete"] and len(exp["body_blocks"]) == 2


def test_dates_updates_and_jsonld(replica_session):
    server, site = replica_session, replica_session.site
    vis = extract(get_html(server, site.case("visible_update").path))
    assert vis["updated"] == "15.04.2026 12:05"
    ld = vis["jsonld"]
    assert ld["dateCreated"] == "2026-04-15T07:30:00+02:00"
    assert ld["datePublished"] == ld["dateModified"] == "2026-04-15T12:05:00+02:00"

    hidden_page = get_html(server, site.case("hidden_update").path)
    assert re.search(r'id="liveRetainAtContainer" class="mr-3" style="display: none"> '
                     r"Aktualizacja: <span id=\"liveRetainAtContainerInner\"> 12\.05\.2025 09:47",
                     hidden_page)
    assert server.expected(site.case("hidden_update").article_id)["updated_at"] is None

    a25 = site.case("jsonld_no_update_2025")
    got = extract(get_html(server, a25.path))
    assert got["updated"] == "04.07.2025 07:55"
    assert got["jsonld"]["dateModified"] == got["jsonld"]["datePublished"] == \
        "2025-07-03T13:05:00+02:00"

    offsets = {name: server.expected(site.case(name).article_id)["published_at"]
               for name in ("dst_spring_before", "dst_spring_after", "dst_autumn_before",
                            "dst_autumn_after")}
    assert offsets == {"dst_spring_before": "2025-03-30T01:30:00+01:00",
                       "dst_spring_after": "2025-03-30T03:30:00+02:00",
                       "dst_autumn_before": "2025-10-26T01:59:00+02:00",
                       "dst_autumn_after": "2025-10-26T03:01:00+01:00"}


def test_bylines_and_body_shapes(replica_session):
    server, site = replica_session, replica_session.site
    several = extract(get_html(server, site.case("several_authors").path))
    assert len(several["authors"]) == 3
    assert len(several["doc"].cssselect('.author a[href^="/autor/"]')) == 3
    assert server.expected(site.case("no_author").article_id)["authors"] == []
    assert not extract(get_html(server, site.case("no_author").path))["doc"].cssselect(".author")
    initials = site.article("44520045")
    assert server.expected("44520045")["authors"] == [initials.authors[0].name]
    assert "initials_only" in initials.cases

    for name in ("list_2026", "list_2025"):
        doc = extract(get_html(server, site.case(name).path))["doc"]
        assert doc.cssselect(".articleBody ul li")
    assert extract(get_html(server, site.case("embed_2025").path))["doc"].cssselect(
        ".articleBody iframe")
    doc = extract(get_html(server, site.case("interview").path))["doc"]
    assert len(doc.cssselect(".block--question--header")) == 6
    twice = site.case("card_twice")
    doc = extract(get_html(server, twice.path))["doc"]
    titles = [e.text_content().strip() for e in doc.cssselect(".articleBody .content--excerpt "
                                                              "a.title")]
    assert len(titles) == 2 and titles[0] == titles[1]
    assert len(server.expected(twice.article_id)["related"]) == 1

    raw = get_html(server, site.case("nbsp_quotes_speech").path)
    assert "&nbsp;" in raw and "„" in raw and '"rzeczowe"' in raw
    body = server.expected(site.case("nbsp_quotes_speech").article_id)["body_blocks"]
    assert [b[:2] for b in body[1:4]] == ["- ", "– ", "— "]
    assert all("\xa0" not in b for b in body)


# --- other endpoints --------------------------------------------------------------------------


def listing_links(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    out = []
    for a in doc.cssselect(".contentList a.contentLink.title"):
        out.append(a.get("href"))
    return out


def test_listing_pagination(replica_session):
    server, site = replica_session, replica_session.site
    seen, page, pages = [], 1, 0
    while True:
        html = get_html(server, f"/dyplomacja?page={page}")
        links = listing_links(html)
        seen += [h for h in links if h.startswith("/dyplomacja/art")]
        pages += 1
        if page == 1:
            assert any(h.startswith("/polityka/") or h.startswith("/publicystyka/")
                       or h.startswith("/konflikty-zbrojne/") or h.startswith("/swiat/")
                       or h.startswith("/materialy-partnera/") for h in links)
            assert any(h.startswith("https://historia.rp.pl/") for h in links)
        nxt = lxml.html.fromstring(html).cssselect("a.pagination--next")
        if not nxt:
            break
        assert nxt[0].get("href") == f"/dyplomacja?page={page + 1}"
        page += 1
    live = [a.path for a in site.live_articles()]
    assert seen == live  # newest first, each once
    assert pages == -(-len(live) // 10)
    assert fetch(server.url(f"/dyplomacja?page={page + 1}"))[0] == 404
    data = json.loads(fetch(server.url("/dyplomacja?ajax=1&page=2"))[2])
    assert "contentLink" in data["html"] and data["hasNext"]


def test_listing_url_variants(replica):
    replica.site.listing_variants = True
    links = listing_links(get_html(replica, "/dyplomacja"))
    top = replica.site.live_articles()[0]
    variants = [h for h in links if f"art{top.article_id}" in h]
    assert len(variants) >= 4
    assert any("?utm_source=x" in v for v in variants) and any("#" in v for v in variants)
    for v in variants:
        assert fetch(replica.url(v.split("#")[0]))[0] == 200


def test_sitemaps_and_rss(replica_session):
    server = replica_session
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
          "n": "http://www.google.com/schemas/sitemap-news/0.9"}
    index = ET.fromstring(fetch(server.url("/sitemaps/sitemap.xml"))[2])
    locs = [e.text for e in index.findall("s:sitemap/s:loc", ns)]
    assert server.url("/sitemaps/news-sitemap.xml") in locs and len(locs) >= 3
    for loc in locs:
        status, _, body = fetch(loc)
        assert status == 200
        ET.fromstring(body)
    news = ET.fromstring(fetch(server.url("/sitemaps/news-sitemap.xml"))[2])
    urls = [e.text for e in news.findall("s:url/s:loc", ns)]
    assert all(u.startswith(server.base_url) for u in urls)
    assert any("/polityka/" in u for u in urls) and any("/dyplomacja/" in u for u in urls)
    assert news.find("s:url/n:news/n:publication_date", ns) is not None
    rss = ET.fromstring(fetch(server.url("/rss_main"))[2])
    items = rss.findall("channel/item")
    cats = {i.findtext("category") for i in items}
    assert "Dyplomacja" in cats and len(cats) >= 3
    assert all(i.findtext("link").startswith(server.base_url) for i in items)


def test_robots_404_and_other_sections(replica):
    status, _, body = fetch(replica.url("/robots.txt"))
    text = body.decode()
    assert status == 200 and "Disallow: /dyplomacja/art44810013" in text
    assert f"Sitemap: {replica.base_url}/sitemaps/sitemap.xml" in text
    replica.site.robots_txt = "User-agent: *\nDisallow: /\n"
    assert fetch(replica.url("/robots.txt"))[2] == b"User-agent: *\nDisallow: /\n"
    for path in ("/nie-ma-takiej-strony", "/dyplomacja/art12345678-nic",
                 f"/polityka/art{SEED}-x", "/sitemaps/nope.xml"):
        status, headers, body = fetch(replica.url(path))
        assert status == 404 and b"Nie znaleziono strony" in body, path
    other = next(iter(replica.site.others.values()))
    status, _, body = fetch(replica.url(other.path))
    assert status == 200 and other.section_slug != "dyplomacja"
    # Different slug, trailing slash: the id identifies the article.
    assert fetch(replica.url(f"/dyplomacja/art{SEED}-inny-slug/"))[0] == 200


# --- conditional requests ---------------------------------------------------------------------


def test_conditional_requests(replica):
    url = replica.article_url(SEED)
    status, headers, _ = fetch(url)
    etag, last_mod = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag and last_mod
    assert fetch(url, {"If-None-Match": etag})[0] == 304
    assert fetch(url, {"If-Modified-Since": last_mod})[0] == 304
    assert fetch(url, {"If-None-Match": '"other"'})[0] == 200
    replica.site.edit_title(SEED, "Nowy tytuł")
    status, headers2, _ = fetch(url, {"If-None-Match": etag})
    assert status == 200 and headers2["ETag"] != etag
    assert fetch(url, {"If-Modified-Since": last_mod})[0] == 200
    replica.send_validators = False
    status, headers3, _ = fetch(url, {"If-None-Match": headers2["ETag"]})
    assert status == 200 and "ETag" not in headers3 and "Last-Modified" not in headers3


# --- mutations --------------------------------------------------------------------------------


def test_mutations(replica):
    site = replica.site
    site.edit_title(SEED, "Zmieniony tytuł artykułu")
    assert extract(get_html(replica, site.article(SEED).path))["title"] == \
        "Zmieniony tytuł artykułu"
    site.replace_text(SEED, "niezwykłą ilość", "ogromną ilość")
    assert "ogromną ilość" in get_html(replica, site.article(SEED).path)
    assert "ogromną ilość" in replica.expected(SEED)["body"]
    typo = "43011234"  # &nbsp; in the markup, a plain space in the ground truth
    sentence = replica.expected(typo)["body_blocks"][0].split(", ")[0]
    assert "&nbsp;" in site.article(typo).blocks[0].html
    site.replace_text(typo, sentence, "Rozmowy w Genewie zakończyły się fiaskiem")
    assert replica.expected(typo)["body_blocks"][0].startswith("Rozmowy w Genewie zakończyły "
                                                               "się fiaskiem, ale")
    check_against_truth(replica, typo)
    with pytest.raises(KeyError):
        site.replace_text(SEED, "tego zdania nie ma", "x")
    site.set_paywall_percent(SEED, 40)
    assert "Pozostało 40% artykułu" in get_html(replica, site.article(SEED).path)
    site.edit(SEED, tags=["NATO"], lead="Nowy lead.")
    check_against_truth(replica, SEED)

    new_id = site.add_article("Nowy artykuł o dyplomacji", template="2025", paywall="meter",
                              paywall_percent=50)
    assert len(new_id) == 8
    assert listing_links(get_html(replica, "/dyplomacja"))[0] == site.article(new_id).path
    assert new_id in fetch(replica.url("/sitemaps/news-sitemap.xml"))[2].decode()
    assert new_id in fetch(replica.url("/rss_main"))[2].decode()
    check_against_truth(replica, new_id)

    victim = "44455012"
    site.remove_article(victim, status=410)
    assert fetch(replica.article_url(victim))[0] == 410
    assert site.article(victim).path not in listing_links(get_html(replica, "/dyplomacja"))
    site.remove_article(victim)
    assert fetch(replica.article_url(victim))[0] == 404
    site.restore_article(victim)
    assert fetch(replica.article_url(victim))[0] == 200


def test_reshuffle_and_preview_only(replica):
    site, aid = replica.site, "42016502"
    url = replica.article_url(aid)
    status, h1, before = fetch(url)
    truth = replica.expected(aid)
    site.reshuffle_furniture(aid)
    status, h2, after = fetch(url)
    assert before != after and h1["ETag"] != h2["ETag"]
    assert h1["Last-Modified"] == h2["Last-Modified"]
    assert replica.expected(aid) == truth
    check_against_truth(replica, aid)

    site.serve_preview_only(aid)
    page = get_html(replica, site.article(aid).path)
    assert "Pozostało jeszcze 89% artykułu" in page
    assert not lxml.html.fromstring(page).cssselect(".paywallAccessWrapper .articleBody")
    exp = replica.expected(aid)
    assert not exp["body_complete"] and exp["body_blocks"] == truth["body_blocks"][:1]
    check_against_truth(replica, aid)
    site.serve_preview_only(aid, on=False)
    assert replica.expected(aid) == truth


def test_redesign_renames_classes_keeps_content(replica):
    replica.redesign = True
    page = get_html(replica, replica.site.article(SEED).path)
    doc = lxml.html.fromstring(page)
    assert not doc.cssselect(".articleBody") and not doc.cssselect("h1.blog--title")
    assert not doc.cssselect("#liveRetainAtContainer")
    ld = json.loads(doc.cssselect('script[type="application/ld+json"]')[0].text)
    assert ld["headline"] == replica.site.article(SEED).title
    assert "Jens Stoltenberg ostrzega" in doc.text_content()
    replica.redesign = False
    replica.site.class_renames = {"articleBody": "storyBody"}
    doc = lxml.html.fromstring(get_html(replica, replica.site.article(SEED).path))
    assert doc.cssselect(".storyBody") and not doc.cssselect(".articleBody")
    assert doc.cssselect("h1.blog--title")


# --- request log, concurrency -----------------------------------------------------------------


def test_request_log_and_concurrency(replica):
    replica.clear_log()
    paths = [a.path for a in replica.site.articles[:12]]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda p: fetch(replica.url(p))[0], paths * 2))
    assert statuses == [200] * 24
    log = replica.requests
    assert len(log) == 24 and {r.path for r in log} == set(paths)
    assert all(r.method == "GET" and r.status == 200 and r.bytes_sent > 150 * 1024 for r in log)
    assert "User-Agent" in log[0].headers
    replica.clear_log()
    assert replica.requests == []


# --- fault injection --------------------------------------------------------------------------


def test_fault_status_and_retry_after(replica):
    path = replica.site.article(SEED).path
    replica.faults.add(path, "status", times=2, status=503)
    assert [fetch(replica.url(path))[0] for _ in range(3)] == [503, 503, 200]
    replica.faults.add(re.compile(r"/rss_main"), "retry_after", times=1, seconds=7)
    status, headers, _ = fetch(replica.url("/rss_main"))
    assert status == 429 and headers["Retry-After"] == "7"
    replica.faults.add("/rss_main", "retry_after", times=1, status=503, seconds=2)
    status, headers, _ = fetch(replica.url("/rss_main"))
    assert status == 503 and headers["Retry-After"] == "2"
    assert fetch(replica.url("/rss_main"))[0] == 200
    assert [r.fault for r in replica.requests][:2] == ["status", "status"]
    replica.faults.clear()
    assert len(replica.faults) == 0


def test_fault_reset(replica):
    path = replica.site.article(SEED).path
    replica.faults.add(path, "reset", share=0.25)
    with pytest.raises((http.client.IncompleteRead, ConnectionError, urllib.error.URLError)):
        conn = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=5)
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()


def test_fault_hang_does_not_block_stop():
    server = ReplicaServer().start()
    server.faults.add("/dyplomacja", "hang")
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        fetch(server.url("/dyplomacja"), timeout=0.5)
    t0 = time.perf_counter()
    server.stop()
    assert time.perf_counter() - t0 < 3


def test_fault_truncate_oversize_charset(replica):
    path = replica.site.article(SEED).path
    full = fetch(replica.url(path))[2]
    replica.faults.add(path, "truncate", times=1, share=0.5)
    status, headers, body = fetch(replica.url(path))
    assert status == 200 and len(body) == len(full) // 2 and full.startswith(body)
    replica.faults.add(path, "oversize", times=1, size=2_000_000)
    status, headers, body = fetch(replica.url(path))
    assert status == 200 and len(body) > 2_000_000 and body.rstrip().endswith(b"</html>")
    replica.faults.add(path, "charset", times=1, encoding="iso-8859-2", declare="wrong")
    status, headers, body = fetch(replica.url(path))
    assert "utf-8" in headers["Content-Type"]
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "Północną".encode("iso-8859-2") in body
    replica.faults.add(path, "charset", times=1, encoding="windows-1250", declare="missing")
    status, headers, body = fetch(replica.url(path))
    assert headers["Content-Type"] == "text/html" and b"charset=" not in body[:3000]
    assert "„".encode("cp1250") in body


def test_fault_pages_instead_of_article(replica):
    path = replica.site.article(SEED).path
    replica.faults.add(path, "interstitial", times=1)
    status, _, body = fetch(replica.url(path))
    assert status == 200 and "Zanim przejdziesz do serwisu" in body.decode()
    replica.faults.add(path, "interstitial", times=1, variant="subscribe")
    assert "tylko dla subskrybentów" in fetch(replica.url(path))[2].decode()
    replica.faults.add(path, "soft404", times=1)
    status, _, body = fetch(replica.url(path))
    assert status == 200 and b"Nie znaleziono strony" in body
    replica.faults.add(path, "gone", times=1)
    assert fetch(replica.url(path))[0] == 410
    replica.faults.add(path, "gone", times=1, status=404)
    assert fetch(replica.url(path))[0] == 404
    assert fetch(replica.url(path))[0] == 200


def test_fault_redirects(replica):
    path = replica.site.article(SEED).path
    replica.faults.add(path, "redirect", times=1)
    status, headers, _ = fetch(replica.url(path))
    assert status == 302 and headers["Location"] == "https://www.rp.pl" + path
    replica.faults.add(path, "redirect", times=1, location="/dyplomacja", status=301)
    status, headers, _ = fetch(replica.url(path))
    assert status == 301 and headers["Location"] == "/dyplomacja"
    replica.faults.add(path, "redirect_loop")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(replica.url(path), timeout=5)
    assert err.value.code == 302  # urllib gives up on the loop


def test_server_context_and_base_url():
    with ReplicaServer() as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
        assert fetch(server.url("/"))[0] == 200
        port = server.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_stop_with_open_keepalive_connection():
    server = ReplicaServer().start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/robots.txt")
    conn.getresponse().read()
    done = threading.Event()
    threading.Thread(target=lambda: (server.stop(), done.set()), daemon=True).start()
    assert done.wait(3)
    conn.close()


def test_stop_closes_idle_keepalive_connections():
    server = ReplicaServer().start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/robots.txt")
    conn.getresponse().read()
    def handlers():
        return [t for t in threading.enumerate() if "process_request" in t.name and t.is_alive()]

    mine = handlers()
    assert mine  # the handler idles on the keep-alive connection
    server.stop()
    for t in mine:
        t.join(3)
        assert not t.is_alive()
    conn.close()


def test_head_requests(replica):
    conn = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=5)
    conn.request("HEAD", replica.site.article(SEED).path)
    resp = conn.getresponse()
    assert resp.status == 200 and int(resp.headers["Content-Length"]) >= 150 * 1024
    assert resp.read() == b""
    conn.close()
    assert replica.requests[-1].method == "HEAD" and replica.requests[-1].bytes_sent == 0


def test_generated_site_pages_match_ground_truth():
    site = ReplicaSite.generated(600, seed=3)
    with ReplicaServer(site) as server:
        for a in site.articles[::30]:
            check_against_truth(server, a.article_id)
        links = listing_links(get_html(server, "/dyplomacja?page=60"))
        assert len([h for h in links if h.startswith("/dyplomacja/art")]) == 10


def test_command_line_entry_point():
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "tests.replica", "--port", "0"], cwd=repo,
                            stdout=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        assert fetch(base + "/dyplomacja")[0] == 200
    finally:
        proc.terminate()
        proc.wait(5)


def test_fault_slow(replica):
    replica.faults.add("/robots.txt", "slow", times=1, seconds=0.4)
    t0 = time.perf_counter()
    assert fetch(replica.url("/robots.txt"))[0] == 200
    assert time.perf_counter() - t0 >= 0.4
    assert fetch(replica.url("/robots.txt"))[0] == 200
    assert [r.fault for r in replica.requests] == ["slow", None]


def test_ids_grow_with_time():
    for site in (ReplicaSite.default(), big_site()):
        by_time = sorted(site.articles, key=lambda a: (a.published, a.article_id))
        ids = [int(a.article_id) for a in by_time]
        assert ids == sorted(ids)


def test_other_articles_pages_do_not_change_when_the_site_does(replica):
    """A page's bytes depend on its own state only, so its ETag stays truthful."""
    url = replica.article_url("44186001")
    _, h1, before = fetch(url)
    replica.site.cache.clear()
    replica.site.add_article("Artykuł dodany w trakcie testu")
    replica.site.remove_article("44455012")
    _, h2, after = fetch(url)
    assert before == after and h1["ETag"] == h2["ETag"]


def test_optional_gzip(replica):
    import gzip

    url = replica.article_url(SEED)
    plain_body = fetch(url, {"Accept-Encoding": "gzip"})[2]
    replica.compress = True
    status, headers, body = fetch(url, {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == plain_body
    assert "Content-Encoding" not in fetch(url)[1]


def test_sitemap_lastmod_follows_edits(replica):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}

    def lastmod(aid):
        root = ET.fromstring(fetch(replica.url("/sitemaps/sitemap-dyplomacja-1.xml"))[2])
        for url in root.findall("s:url", ns):
            if f"art{aid}-" in url.findtext("s:loc", namespaces=ns):
                return url.findtext("s:lastmod", namespaces=ns)

    before = lastmod(SEED)
    assert before == "2024-06-20T06:01:00+02:00"
    replica.site.edit_title(SEED, "Po edycji")
    assert lastmod(SEED) > before


@pytest.mark.parametrize("template", ["2025", "2026"])
@pytest.mark.parametrize("paywall", ["open", "meter", "layer", "layer_partial", "hard"])
def test_every_mode_in_both_templates_matches_ground_truth(replica, template, paywall):
    """Modes documented for one template must still render truthfully in the other."""
    aid = replica.site.add_article(f"Tryb {paywall} w szablonie {template}", template=template,
                                   paywall=paywall, paywall_percent=61)
    check_against_truth(replica, aid)
    replica.site.serve_preview_only(aid)
    check_against_truth(replica, aid)


# --- real links (a mirror keeps the real site's addresses) -------------------------------------

RP = "https://www.rp.pl"


def head_links(page: str) -> dict[str, str]:
    doc = lxml.html.fromstring(page)
    ld = json.loads(doc.cssselect('script[type="application/ld+json"]')[0].text)
    return {"canonical": doc.cssselect('link[rel="canonical"]')[0].get("href"),
            "og:url": doc.cssselect('meta[property="og:url"]')[0].get("content"),
            "ld:url": ld["url"], "ld:page": ld["mainEntityOfPage"]["url"]}


def feed_and_sitemap_links(server) -> list[str]:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.fromstring(fetch(server.url("/sitemaps/sitemap.xml"))[2])
    news = ET.fromstring(fetch(server.url("/sitemaps/news-sitemap.xml"))[2])
    rss = ET.fromstring(fetch(server.url("/rss_main"))[2])
    return ([e.text for e in index.findall("s:sitemap/s:loc", ns)]
            + [e.text for e in news.findall("s:url/s:loc", ns)]
            + [i.findtext("link") for i in rss.findall("channel/item")])


@pytest.mark.parametrize("real_links", [None, "head", "all"])
def test_real_links_switch(real_links):
    site = ReplicaSite.default()
    with ReplicaServer(site, real_links=real_links) as server:
        a = site.article(SEED)
        page = get_html(server, a.path)
        own = (RP if real_links else server.base_url) + a.path
        assert set(head_links(page).values()) == {own}
        assert server.expected(SEED)["canonical_url"] == own
        assert server.expected(SEED)["url"] == server.base_url + a.path
        body = page.partition("</head>")[2]
        assert (RP + "/" in body) == (real_links == "all")
        links = feed_and_sitemap_links(server)
        assert links and all(u.startswith(RP if real_links == "all" else server.base_url)
                             for u in links)
        robots = fetch(server.url("/robots.txt"))[2].decode()
        sitemap_base = RP if real_links == "all" else server.base_url
        assert f"Sitemap: {sitemap_base}/sitemaps/sitemap.xml" in robots
        # Listing cards are relative on every setting; the page content does not move.
        assert listing_links(get_html(server, "/dyplomacja"))[0].startswith("/dyplomacja/art")
        check_against_truth(server, SEED)
        check_against_truth(server, site.case("full_2026").article_id)


def test_real_links_setting_is_checked():
    with pytest.raises(ValueError):
        ReplicaServer(ReplicaSite.default(), real_links="some")


def test_canonical_in_another_section_is_served_there_too(replica):
    site = replica.site
    aid = site.add_article(title="Wybory w Mołdawii. Dyplomaci liczą głosy")
    a = site.article(aid)
    listed = replica.url(a.path)
    _, before, _ = fetch(listed)
    site.point_canonical(aid, "swiat")
    moved = f"/swiat/art{aid}-{a.slug}"
    status, after, page = fetch(listed)
    assert status == 200 and after["ETag"] != before["ETag"]
    assert set(head_links(page.decode()).values()) == {replica.base_url + moved}
    status, _, same = fetch(replica.url(moved))
    assert status == 200 and same == page
    assert replica.expected(aid)["canonical_url"] == replica.base_url + moved
    # Listed under the section as before; other sections still do not serve it.
    assert a.path in listing_links(get_html(replica, "/dyplomacja"))
    assert fetch(replica.url(f"/polityka/art{aid}-{a.slug}"))[0] == 404


@pytest.mark.parametrize("real_links", [None, "head", "all"])
def test_canonical_on_another_host_is_never_rewritten(real_links):
    site = ReplicaSite.default()
    aid = site.add_article(title="Szczyt w Genewie oczami partnerów")
    foreign = f"https://www.parkiet.com/gospodarka-swiatowa/art{aid}-szczyt"
    site.point_canonical(aid, foreign)
    with ReplicaServer(site, real_links=real_links) as server:
        page = get_html(server, site.article(aid).path)
        assert set(head_links(page).values()) == {foreign}
        assert server.expected(aid)["canonical_url"] == foreign


def test_command_line_real_links():
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "tests.replica", "--port", "0",
                             "--real-links", "all"], cwd=repo, stdout=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().strip()
        page = fetch(base + f"/dyplomacja/art{SEED}-x")[2].decode()
        assert head_links(page)["canonical"].startswith(RP + "/dyplomacja/art" + SEED)
        assert f"Sitemap: {RP}/sitemaps/sitemap.xml" in fetch(base + "/robots.txt")[2].decode()
    finally:
        proc.terminate()
        proc.wait(5)
