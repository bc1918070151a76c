"""Precision / recall / F1 of the intent tagger on tests/data/tagging_eval.jsonl.

Usage (from the repo root): .venv/bin/python bench/tagging_eval.py [--errors] [--data PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.tagging.evaluation import evaluate, format_report  # noqa: E402

DEFAULT_DATA = ROOT / "tests" / "data" / "tagging_eval.jsonl"
BAR_MICRO_F1, BAR_DIMENSION_F1 = 0.90, 0.80


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the wrongly tagged messages")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="labelled JSONL file")
    args = parser.parse_args(argv)
    report = evaluate(args.data)
    print(format_report(report, with_errors=args.errors))
    dim, worst = report.worst_dimension()
    ok = report.overall.f1 >= BAR_MICRO_F1 and worst >= BAR_DIMENSION_F1
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}: micro-F1 {report.overall.f1:.3f} (bar {BAR_MICRO_F1}), worst {dim} {worst:.3f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
