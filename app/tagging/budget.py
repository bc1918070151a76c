"""Reading a renovation budget (an amount in yuan and its tier) from a customer message."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .segment import normalize
from .taxonomy import BudgetThresholds, budget_tier

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS.update({"五": 5, "六": 6, "七": 7, "八": 8, "九": 9})
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}

# A number: arabic, or chinese starting with a digit (so 千万别 / 万一 are not numbers).
_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千]*)"
_WAN = r"(?:万|[wW])"
_SQM = r"(?:平方米|平米|平方|平|㎡|[mM]2|[mM]²)"
_DASH = r"(?:-|~|～|—|到|至)"
_APPROX = r"(?:几|多|来)?"

# 15-20万, 十五到二十万, 12万到15万
_RANGE_RE = re.compile(rf"({_NUM}){_WAN}?{_DASH}({_NUM}){_APPROX}{_WAN}")
# 三四十万, 五六万, 十二三万: two neighbouring digits mean "between"
_PAIR_RE = re.compile(
    r"((?:[一二三四五六七八九]?十)?)([一二两三四五六七八九])([二两三四五六七八九])(十|百)?" + _WAN
)
# 20万, 二十来万, 25个w, 两万五 (the trailing digit counts thousands)
_WAN_RE = re.compile(
    rf"((?:{_NUM}){_APPROX}|\d+个){_WAN}([一二三四五六七八九](?![\d十百千万个]))?(?!个)"
)
# 80000元, 三千块
_YUAN_RE = re.compile(rf"({_NUM})(?:元|块)(?!\s*(?:/|每|一)\s*{_SQM})")
# 3000元/平, 1500一平, 每平3000
_PRICE_RE = re.compile(
    rf"({_NUM})(?:元|块)?\s*(?:/|每|一个?)\s*{_SQM}|(?:每|一){_SQM}\s*(?:大概|差不多|要|是)?\s*({_NUM})"
)
_AREA_RE = re.compile(rf"({_NUM})\s*{_SQM}")

# An amount right after these is a deposit, a fee or an extra, not the budget.
_NOT_BUDGET_BEFORE = re.compile(
    r"(?:押金|定金|订金|设计费|物业费|违约金|增项|加了|多花|多收|赔|退|便宜|贵了|差了|省了|相差)\S{0,2}$"
)

MIN_AMOUNT = 1000  # smaller sums are the price of a tile or a tap, not a renovation
MIN_AREA, MAX_AREA = 10, 3000


@dataclass(frozen=True)
class BudgetHit:
    """An amount found in a message, its tier and the words it was read from."""

    amount: int
    tier: str
    words: tuple[str, ...]


def chinese_to_number(text: str) -> float | None:
    """Parse 二十, 一百二十, 十五, 3.5 (no 万: callers scale). None when unreadable."""
    try:
        return float(text)
    except ValueError:
        pass
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            return None
    return float(total + (digit or 0))


def _excluded(text: str, start: int) -> bool:
    return bool(_NOT_BUDGET_BEFORE.search(text[max(0, start - 6) : start]))


def _num(s: str | None) -> float | None:
    return chinese_to_number(s) if s else None


Span = tuple[int, int]


def _explicit_amounts(text: str) -> list[tuple[Span, float]]:
    """(span, yuan) for every stated total, in text order; earlier patterns win overlaps."""
    found: list[tuple[Span, float]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], value: float | None) -> None:
        if value is None or _excluded(text, m.start()):
            return
        if any(a < m.end() and m.start() < b for a, b in taken):
            return
        taken.append(m.span())
        found.append((m.span(), value))

    for m in _RANGE_RE.finditer(text):
        lo, hi = _num(m.group(1)), _num(m.group(2))
        add(m, None if lo is None or hi is None else (lo + hi) / 2 * 10_000)
    for m in _PAIR_RE.finditer(text):
        tens = _num(m.group(1)) or 0
        scale = {"十": 10, "百": 100}.get(m.group(4) or "", 1) * 10_000
        add(m, (tens + (_CN_DIGITS[m.group(2)] + _CN_DIGITS[m.group(3)]) / 2) * scale)
    for m in _WAN_RE.finditer(text):
        base = _num(m.group(1).rstrip("几多来个"))
        extra = _CN_DIGITS[m.group(2)] * 1000 if m.group(2) else 0
        add(m, None if base is None else base * 10_000 + extra)
    for m in _YUAN_RE.finditer(text):
        add(m, _num(m.group(1)))
    return sorted(found)


def _per_square_total(text: str) -> tuple[float, list[Span]] | None:
    """Price per m² times the stated area, when both are present."""
    price = _PRICE_RE.search(text)
    if not price:
        return None
    unit_price = _num(price.group(1) or price.group(2))
    masked = text[: price.start()] + " " * len(price.group(0)) + text[price.end() :]
    for area in _AREA_RE.finditer(masked):
        size = _num(area.group(1))
        if unit_price and size and MIN_AREA <= size <= MAX_AREA:
            return unit_price * size, [price.span(), area.span()]
    return None


def find_budget(normalized: str) -> tuple[int, list[Span]] | None:
    """Amount in yuan and the spans it was read from, in an already normalised text."""
    for span, value in _explicit_amounts(normalized):
        if value >= MIN_AMOUNT:
            return int(value), [span]
    per_square = _per_square_total(normalized)
    if per_square and per_square[0] >= MIN_AMOUNT:
        return int(per_square[0]), per_square[1]
    return None


def parse_budget(text: str, thresholds: BudgetThresholds | None = None) -> BudgetHit | None:
    """The first stated budget in `text` (a total, a range's midpoint, or price/m² × area)."""
    if not isinstance(text, str) or not text:
        return None
    found = find_budget(normalize(text))
    if found is None:
        return None
    amount, spans = found
    words = tuple(text[a:b] for a, b in spans)
    return BudgetHit(amount, budget_tier(amount, thresholds), words)
