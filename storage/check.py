"""The archive's consistency check (`newsmon db check`): problems as human-readable lines."""

from __future__ import annotations

import hashlib

import zstandard
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ARTICLE_STATUSES, Article, ArticleVersion, RawPage, Site
from storage.rawpages import decompress


def check(s: Session, *, deep: bool = False) -> list[str]:
    """Consistency problems (empty: all good): every current version exists, version numbers
    are contiguous from 1, no two consecutive versions have the same content hash (parser
    artefacts aside, which must equal the version before them), every raw page is present;
    on SQLite also integrity_check and foreign_key_check. `deep` also decompresses every raw
    page and verifies its sha256."""
    problems: list[str] = []
    if s.get_bind().dialect.name == "sqlite":
        for (line,) in s.connection().exec_driver_sql("PRAGMA integrity_check"):
            if line != "ok":
                problems.append(f"sqlite integrity_check: {line}")
        for row in s.connection().exec_driver_sql("PRAGMA foreign_key_check"):
            problems.append(f"sqlite foreign_key_check: {tuple(row)}")

    label = {
        a.id: f"{name}/{a.article_id}"
        for a, name in s.execute(select(Article, Site.name).join(Site)).all()
    }
    problems += _version_numbers(s, label)
    problems += _hashes_and_pages(s, label)
    if deep:
        problems += _page_contents(s)
    return problems


def _version_numbers(s: Session, label: dict[int, str]) -> list[str]:
    problems = []
    stats = {
        row.article_id: row
        for row in s.execute(
            select(
                ArticleVersion.article_id,
                func.count().label("n"),
                func.min(ArticleVersion.version).label("lo"),
                func.max(ArticleVersion.version).label("hi"),
            ).group_by(ArticleVersion.article_id)
        )
    }
    for article in s.scalars(select(Article)).all():
        who = label.get(article.id, f"article #{article.id}")
        st = stats.get(article.id)
        if article.status not in ARTICLE_STATUSES:
            problems.append(f"{who}: unknown status {article.status!r}")
        if article.current_version == 0:
            if st is not None:
                problems.append(f"{who}: has versions but current_version is 0")
            continue
        if st is None or st.hi != article.current_version:
            problems.append(
                f"{who}: current version {article.current_version} is not its latest "
                f"stored version ({st.hi if st else 'none'})"
            )
        if st is not None and (st.lo != 1 or st.n != st.hi):
            problems.append(
                f"{who}: version numbers not contiguous from 1 "
                f"({st.n} versions, {st.lo}..{st.hi})"
            )
    return problems


def _hashes_and_pages(s: Session, label: dict[int, str]) -> list[str]:
    problems = []
    previous: dict[int, str] = {}  # the hash of each article's last version not an artefact
    for v in s.execute(
        select(
            ArticleVersion.article_id,
            ArticleVersion.version,
            ArticleVersion.content_hash,
            ArticleVersion.artefact,
            ArticleVersion.raw_page_sha,
            RawPage.sha256,
        )
        .outerjoin(RawPage, ArticleVersion.raw_page_sha == RawPage.sha256)
        .order_by(ArticleVersion.article_id, ArticleVersion.version)
    ):
        who = f"{label.get(v.article_id, f'article #{v.article_id}')} v{v.version}"
        # A parser artefact (storage/reparse.py) is a kept copy of the version before it.
        same = previous.get(v.article_id) == v.content_hash
        if v.artefact and not same:
            problems.append(f"{who}: marked as an artefact but differs from the version "
                            "before it")
        elif not v.artefact and same:
            problems.append(f"{who}: same content hash as the version before it")
        if not v.artefact:
            previous[v.article_id] = v.content_hash
        if v.raw_page_sha is None:
            problems.append(f"{who}: no raw page")
        elif v.sha256 is None:
            problems.append(f"{who}: raw page {v.raw_page_sha} is missing")
    return problems


def _page_contents(s: Session) -> list[str]:
    problems = []
    for page in s.scalars(select(RawPage)).yield_per(50):
        try:
            data = decompress(s, page)
        except (zstandard.ZstdError, ValueError) as exc:
            problems.append(f"raw page {page.sha256}: cannot decompress ({exc})")
            continue
        if hashlib.sha256(data).hexdigest() != page.sha256:
            problems.append(f"raw page {page.sha256}: content does not match its hash")
    return problems
