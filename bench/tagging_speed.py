"""Throughput of tag_text against plain jieba.lcut on the evaluation messages, and cold start.

The two alternate in rounds over the same messages and the median of the rounds' ratios is
reported, so a neighbour's load on the shared machine falls on both sides alike.

Usage (from the repo root): .venv/bin/python bench/tagging_speed.py [--n 100000] [--rounds 6]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jieba  # noqa: E402

from app.tagging import tag_text  # noqa: E402
from app.tagging.evaluation import load_examples  # noqa: E402

DATA = (
    ROOT / "tests" / "data" / "tagging_eval.jsonl",
    ROOT / "tests" / "data" / "tagging_blind_dev.jsonl",
)
BAR_RATIO = 0.5  # tag_text must keep at least half of plain segmentation's throughput
COLD_START = "from app.tagging import tag_text; tag_text('预算20万 现代简约')"


def rate(func, texts: list[str]) -> float:
    """Messages per second of `func` over `texts`."""
    start = time.perf_counter()
    for text in texts:
        func(text)
    return len(texts) / (time.perf_counter() - start)


def cold_start_seconds() -> float:
    """Wall time of a fresh interpreter importing the tagger and tagging one message."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", COLD_START], cwd=ROOT, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="messages to process")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds")
    args = parser.parse_args(argv)
    corpus = [e.text for path in DATA for e in load_examples(path)]
    texts = list(islice(cycle(corpus), args.n))
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    for warm in texts[:500]:  # load dictionaries and fill caches before timing
        jieba.lcut(warm)
        tag_text(warm)
    size = max(1, len(texts) // args.rounds)
    rounds = [texts[i : i + size] for i in range(0, len(texts), size)]
    pairs = [(rate(jieba.lcut, chunk), rate(tag_text, chunk)) for chunk in rounds]
    plain = statistics.median(p for p, _ in pairs)
    tagged = statistics.median(t for _, t in pairs)
    ratio = statistics.median(t / p for p, t in pairs)
    print(f"messages: {len(texts)} in {len(rounds)} alternating rounds (medians)")
    print(f"jieba.lcut (global, HMM on): {plain:,.0f} msg/s")
    print(f"tag_text:                    {tagged:,.0f} msg/s")
    verdict = "PASS" if ratio >= BAR_RATIO else "FAIL"
    print(f"ratio tag_text/jieba: {ratio:.2f} (bar {BAR_RATIO}) {verdict}")
    print(f"cold start to first tag: {cold_start_seconds():.2f} s")
    return 0 if ratio >= BAR_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
