"""Tag-level precision / recall / F1 of the tagger against a labelled JSONL file, and how many
stated budget amounts it reads within 10%."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .budget import parse_budget
from .engine import tag_text
from .taxonomy import TAXONOMY


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    tags: frozenset[str]
    budget_yuan: int | None = None  # the amount stated, when the labels give it


@dataclass
class Counts:
    """True positives, false positives and false negatives over (message, tag) pairs."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Error:
    """A message whose predicted tags differ from its labels."""

    text: str
    missing: tuple[str, ...]
    extra: tuple[str, ...]


@dataclass
class Report:
    """Per-dimension and overall (micro) counts, and the messages that were wrong."""

    examples: int = 0
    overall: Counts = field(default_factory=Counts)
    by_dimension: dict[str, Counts] = field(default_factory=lambda: {d: Counts() for d in TAXONOMY})
    errors: list[Error] = field(default_factory=list)
    amounts_stated: int = 0  # examples with a labelled budget_yuan
    amounts_read: int = 0  # … whose amount the tagger read within AMOUNT_TOLERANCE
    amount_errors: list[tuple[str, int, int | None]] = field(default_factory=list)

    def worst_dimension(self) -> tuple[str, float]:
        """The dimension with the lowest F1 (only dimensions that occur)."""
        seen = {d: c.f1 for d, c in self.by_dimension.items() if c.tp + c.fp + c.fn}
        return min(seen.items(), key=lambda kv: kv[1])


def load_examples(path: str | Path) -> list[Example]:
    """Read `{"text": ..., "tags": [...]}` lines; blank lines are skipped."""
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                budget = row.get("budget_yuan")
                out.append(Example(row["text"], frozenset(row["tags"]), budget))
    return out


def _count(counts: Counts, gold: set[str], predicted: set[str]) -> None:
    counts.tp += len(gold & predicted)
    counts.fp += len(predicted - gold)
    counts.fn += len(gold - predicted)


AMOUNT_TOLERANCE = 0.10


def _count_amount(report: Report, ex: Example, reader: Callable[[str], int | None]) -> None:
    if ex.budget_yuan is None:
        return
    report.amounts_stated += 1
    read = reader(ex.text)
    if read is not None and abs(read - ex.budget_yuan) <= AMOUNT_TOLERANCE * ex.budget_yuan:
        report.amounts_read += 1
    else:
        report.amount_errors.append((ex.text, ex.budget_yuan, read))


def _read_amount(text: str) -> int | None:
    hit = parse_budget(text)
    return hit.amount if hit else None


def evaluate_examples(
    examples: Iterable[Example],
    tagger: Callable[[str], Iterable[str]] | None = None,
    amount_reader: Callable[[str], int | None] = _read_amount,
) -> Report:
    """Score `tagger` (default: tag_text with the default rules) and `amount_reader` on
    `examples`."""
    tagger = tagger or (lambda text: [h.tag for h in tag_text(text)])
    report = Report()
    for ex in examples:
        _count_amount(report, ex, amount_reader)
        predicted = set(tagger(ex.text))
        report.examples += 1
        _count(report.overall, set(ex.tags), predicted)
        for dim, counts in report.by_dimension.items():
            prefix = dim + ":"
            gold_d = {t for t in ex.tags if t.startswith(prefix)}
            _count(counts, gold_d, {t for t in predicted if t.startswith(prefix)})
        if predicted != ex.tags:
            missing, extra = sorted(ex.tags - predicted), sorted(predicted - ex.tags)
            report.errors.append(Error(ex.text, tuple(missing), tuple(extra)))
    return report


def evaluate(path: str | Path) -> Report:
    """Score the default tagger on a labelled JSONL file."""
    return evaluate_examples(load_examples(path))


def format_report(report: Report, with_errors: bool = False) -> str:
    """A plain-text table, optionally followed by the wrong messages."""
    lines = [f"{'维度':<6}{'P':>8}{'R':>8}{'F1':>8}{'TP':>6}{'FP':>6}{'FN':>6}"]
    for dim, c in report.by_dimension.items():
        lines.append(
            f"{dim:<6}{c.precision:>8.3f}{c.recall:>8.3f}{c.f1:>8.3f}{c.tp:>6}{c.fp:>6}{c.fn:>6}"
        )
    o = report.overall
    lines.append(f"micro   P={o.precision:.3f} R={o.recall:.3f} F1={o.f1:.3f}")
    lines.append(f"messages={report.examples} wrong={len(report.errors)}")
    if report.amounts_stated:
        lines.append(
            f"budget amounts read within {AMOUNT_TOLERANCE:.0%}: "
            f"{report.amounts_read}/{report.amounts_stated}"
        )
    if with_errors:
        for e in report.errors:
            lines.append(f"- {e.text}\n    missing={list(e.missing)} extra={list(e.extra)}")
        for text, stated, read in report.amount_errors:
            lines.append(f"- {text}\n    budget_yuan={stated} read={read}")
    return "\n".join(lines)
