"""One tag found in a message, with its evidence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TagHit:
    """One tag found in a message, with the words that matched and the rule that fired."""

    dimension: str
    value: str
    words: tuple[str, ...]
    rule: str
    amount: int | None = None

    @property
    def tag(self) -> str:
        return f"{self.dimension}:{self.value}"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready evidence."""
        return {
            "tag": self.tag,
            "words": list(self.words),
            "rule": self.rule,
            "amount": self.amount,
        }
