"""Throughput of tag_text against plain jieba.lcut on the evaluation messages, and cold start.

Usage (from the repo root): .venv/bin/python bench/tagging_speed.py [--n 100000]
"""

from __future__ import annotations

import argparse
import logging
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

DATA = ROOT / "tests" / "data" / "tagging_eval.jsonl"
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
    args = parser.parse_args(argv)
    texts = list(islice(cycle([e.text for e in load_examples(DATA)]), args.n))
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    for warm in texts[:500]:  # load dictionaries and fill caches before timing
        jieba.lcut(warm)
        tag_text(warm)
    plain = rate(jieba.lcut, texts)
    tagged = rate(tag_text, texts)
    ratio = tagged / plain
    print(f"messages: {len(texts)}")
    print(f"jieba.lcut (global, HMM on): {plain:,.0f} msg/s")
    print(f"tag_text:                    {tagged:,.0f} msg/s")
    verdict = "PASS" if ratio >= BAR_RATIO else "FAIL"
    print(f"ratio tag_text/jieba: {ratio:.2f} (bar {BAR_RATIO}) {verdict}")
    print(f"cold start to first tag: {cold_start_seconds():.2f} s")
    return 0 if ratio >= BAR_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
