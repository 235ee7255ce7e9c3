"""Parser evaluation on a generated replica site: per-field accuracy against the replica's
ground truth, and parse time against plain lxml parsing. Turns "it seems to work" into numbers.

    .venv/bin/python tests/parser/evaluate_replica.py [N_ARTICLES] [--redesign]

--redesign renders every page with its classes and known ids renamed, which measures the
fallbacks (JSON-LD, meta, visible labels, generic extraction) on their own.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import lxml.html  # noqa: E402

from crawler.parsers import parse_article  # noqa: E402
from tests.replica import ReplicaSite  # noqa: E402


def _shingles(text: str, n: int = 4) -> Counter:
    words = text.split()
    return Counter(tuple(words[i:i + n]) for i in range(max(0, len(words) - n + 1)))


def body_f1(got: str | None, want: str) -> float:
    a, b = _shingles(got or ""), _shingles(want)
    if not a and not b:
        return 1.0
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=300)
    ap.add_argument("--redesign", action="store_true")
    args = ap.parse_args()
    site = ReplicaSite.generated(args.n)
    site.redesign = args.redesign
    right: Counter = Counter()
    total = 0
    f1s: list[float] = []
    t_lxml = t_parse = 0.0
    for article in site.articles:
        html = site.render(article.article_id)
        truth = site.expected(article.article_id)
        start = time.process_time()
        lxml.html.fromstring(html)
        t_lxml += time.process_time() - start
        start = time.process_time()
        record = parse_article(html).to_dict()
        t_parse += time.process_time() - start
        total += 1
        for key, value in truth.items():
            if key != "body_blocks":
                right[key] += record.get(key) == value
        f1s.append(body_f1(record["body"], truth["body"]))
    print(f"{total} articles{' (redesigned)' if args.redesign else ''}")
    for key in sorted(right):
        print(f"  {key:16s} {right[key] / total:7.1%}")
    print(f"  body F1 (4-word shingles) mean {sum(f1s) / len(f1s):.3f}, min {min(f1s):.3f}")
    print(f"  time: parse_article {t_parse / total * 1e3:.2f} ms/page, lxml parse "
          f"{t_lxml / total * 1e3:.2f} ms/page, ratio {t_parse / t_lxml:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
