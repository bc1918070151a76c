"""Reading a renovation budget (an amount in yuan and its tier) from a customer message.

The rules are product.md's "How a message is read" (预算): a range counts at its midpoint,
parts of one budget add up, 29万8 is 29.8万, 「以内」「左右」「来万」「多万」 count at the
number said, and a price per square metre times a stated area is a total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .segment import normalize
from .taxonomy import BudgetThresholds, budget_tier

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "仨": 3, "四": 4}
_CN_DIGITS.update({"五": 5, "六": 6, "七": 7, "八": 8, "九": 9})
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "k": 1000}
_DIGIT = "一二两俩三仨四五六七八九"

# A number: arabic, possibly with a chinese unit (3.5, 1千, 1千5, 2百, 8k); chinese starting
# with a digit or 十 (so 千万别 / 万一 / 几十万 are not numbers); a bare 百 before 万 (百来万).
_AR = r"\d+(?:\.\d+)?"
_NUM = (
    rf"(?:{_AR}(?:[十百千k](?:[{_DIGIT}]|\d(?![\d.]))?)?"
    rf"|(?<!几)[零〇{_DIGIT}十][零〇{_DIGIT}十百千]*|(?<![{_DIGIT}\d])百(?=[来多把]?万))"
)
_WAN = r"(?:万|w)"
_SQM = r"(?:平方米|平方|平米|平|㎡|m2|m²)"
_DASH = r"(?:-|~|～|—|到|至)"
_APPROX = r"(?:几|多|来|把)?"
# What may follow a bare number without making it a count of rooms, floors, years…
_NOT_A_COUNT = r"(?![\d.十百千万个室房居厅卫楼层年月天号平米套w㎡间人口块元岁k])"

# 15-20万, 十五到二十万, 12万到15万
_RANGE_RE = re.compile(rf"({_NUM}){_WAN}?{_DASH}({_NUM}){_APPROX}个?{_WAN}")
# 三四十万, 五六万, 十二三万, 一两百万: two neighbouring digits mean "between"
_PAIR = r"((?:[一二三四五六七八九]?十)?)([一二两三四五六七八九])([二两三四五六七八九])(十|百)?"
_PAIR_RE = re.compile(_PAIR + _WAN)
_PAIR_ALONE = re.compile(_PAIR)
# 20万, 二十来万, 25个w, 两万五 / 29万8 / 20万8千 (what follows 万 is the next place down)
_WAN_RE = re.compile(
    rf"((?:{_NUM}){_APPROX}个?){_WAN}"
    rf"(?:([{_DIGIT}]|\d(?![\d.]))(千|k)?{_NOT_A_COUNT}|(\d{{4}})(?![\d.]))?(?!个)"
)
# 80000元, 三千块, 80k
_YUAN_RE = re.compile(rf"({_NUM})(?:元|块)|(\d+(?:\.\d+)?k)(?![a-z])")
# 两百个 / 预算三十个: 个 standing for 万 (colloquial), only where a budget is being talked of
_GE_RE = re.compile(
    rf"(预算|budget|手上|手里|准备了?|拿出|能花|花|全包|半包|硬装|软装|家电|家具|另外|再加)"
    rf"[^,.;!?，。；！？]{{0,4}}?"
    rf"({_NUM})(?:{_DASH}({_NUM}))?{_APPROX}个"
    r"(?=[,.;!?，。；！？\s~]|$|左右|上下|以内|以下|吧|的样子|的预算|够|能|之间)"
)
# 预算80000 / 预算30左右: a bare number right after the word budget (below 1000 it is 万)
_BARE_RE = re.compile(
    rf"(?:预算|ys|budget)(?:是|大概|大约|差不多|在|控制在|有|就|只有|也就|[:：\s])*"
    rf"({_AR}|[{_DIGIT}十][{_DIGIT}十百千]*)"
    r"(?=[,.;!?，。；！？\s~]|$|左右|上下|以内|以下|吧|多|出头|来个|的样子)"
)
# 3000元/平, 1500一平, 每平3000, 每平600到1000, 平米单价1500
_PRICE_AFTER = rf"({_NUM})(?:{_DASH}({_NUM}))?(?:元|块)?"
_PRICE_RE = re.compile(
    rf"{_PRICE_AFTER}\s*(?:/|每|一个?)\s*{_SQM}"
    rf"|(?:(?<![\d零〇{_DIGIT}十百千])(?:每|一)个?{_SQM}|{_SQM}单价)"
    rf"\s*(?:的)?(?:预算|单价|造价|价格|大概|大约|差不多|要|是|按|在|:|：)*\s*{_PRICE_AFTER}"
)
_AREA_RE = re.compile(
    rf"({_NUM})\s*个?(?:{_SQM}|方(?![案便式面向法]))"
    rf"|(?:面积|建面|套内|建筑面积)(?:是|有|大概|约|差不多)?({_NUM})"
)

# An amount right after these is a deposit, a fee, an extra, or the flat's price: not the budget.
_NOT_BUDGET_BEFORE = re.compile(
    r"(?:押金|定金|订金|设计费|物业费|违约金|增项|加了|(?<![顶最至])多花|多收|赔|退|便宜|贵了|差了|省了|相差"
    r"|首付|房价|房款|贷款|月供|房租|租金|工资|月薪|年薪|收入|买了|买的|卖了|罚|扣)\S{0,2}$"
)
_NOT_BUDGET_AFTER = re.compile(r"^(?:买的|买了|的房|首付|房贷|的首付)")
# Before an amount: a part of one budget (硬装 18万, 软装另外 15万), or the whole of it.
_PART = re.compile(r"硬装|软装|家电|家具|电器|主材|辅材|人工|基装|定制|橱柜|衣柜|灯具|窗帘")
_ADDED = re.compile(r"另外|另|再加|加上|外加|额外|还要|再留|再准备|再")
_TOTAL = re.compile(r"总预算|总共|一共|合计|加起来|总价|总的|总计|整体预算|全部")
_BUDGET_WORD = re.compile(r"预算|ys|budget")
_CLAUSE_BREAK = re.compile(r"[,.;!?，。；！？\n]")
LOOK_BACK = 12  # characters before an amount read for its part / total / budget words

MIN_AMOUNT = 1000  # smaller sums are the price of a tile or a tap, not a renovation
MIN_AREA, MAX_AREA = 10, 3000

Span = tuple[int, int]


@dataclass(frozen=True)
class BudgetHit:
    """An amount found in a message, its tier and the words it was read from."""

    amount: int
    tier: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class _Amount:
    span: Span
    value: float
    before: str  # the clause's text before the amount (at most LOOK_BACK characters)


def chinese_to_number(text: str) -> float | None:
    """二十, 一百二十, 一百五 (=150), 一千零五, 3.5, 1千5, 8k (no 万: callers scale); None if
    unreadable. A digit right after a unit is the next place down (一千五 is 1500)."""
    try:
        return float(text)
    except ValueError:
        pass
    total, current, last_unit, after_unit = 0.0, None, 0, False
    for piece in re.findall(r"\d+(?:\.\d+)?|.", text):
        if piece[0].isdigit() or piece in _CN_DIGITS:
            zero = piece in ("零", "〇")
            value = float(piece) if piece[0].isdigit() else _CN_DIGITS[piece]
            current, after_unit = (None, False) if zero else (value, after_unit)
        elif piece in _CN_UNITS:
            total += (1 if current is None else current) * _CN_UNITS[piece]
            current, last_unit, after_unit = None, _CN_UNITS[piece], True
        else:
            return None
    if current is not None:
        next_place = after_unit and current < 10 and last_unit >= 100
        total += current * last_unit / 10 if next_place else current
    return total


def _pair_value(m: re.Match[str]) -> float:
    """三四十 → 35, 十二三 → 12.5, 一两百 → 150: two neighbouring digits mean "between"."""
    tens = _num(m.group(1)) or 0
    scale = {"十": 10, "百": 100}.get(m.group(4) or "", 1)
    return (tens + (_CN_DIGITS[m.group(2)] + _CN_DIGITS[m.group(3)]) / 2) * scale


def _num(s: str | None) -> float | None:
    if not s:
        return None
    pair = _PAIR_ALONE.fullmatch(s)
    return _pair_value(pair) if pair else chinese_to_number(s)


def _midpoint(lo: str | None, hi: str | None) -> float | None:
    a, b = _num(lo), _num(hi)
    if a is None:
        return None
    return a if b is None else (a + b) / 2


def _wan_value(m: re.Match[str]) -> float | None:
    base = _num(m.group(1).rstrip("几多来把个"))
    if base is None:
        return None
    digit, unit, full = m.group(2), m.group(3), m.group(4)
    extra = 0.0
    if digit:  # 两万五, 29万8, 20万8千
        extra = (_num(digit) or 0) * 1000
    elif full:  # 1万2000
        extra = float(full)
    return base * 10_000 + extra if unit or digit or full else base * 10_000


def _clause_before(text: str, start: int) -> str:
    head = text[max(0, start - LOOK_BACK) : start]
    return _CLAUSE_BREAK.split(head)[-1]


def _excluded(text: str, span: Span) -> bool:
    before = text[max(0, span[0] - 6) : span[0]]
    return bool(_NOT_BUDGET_BEFORE.search(before) or _NOT_BUDGET_AFTER.match(text[span[1] :]))


def _stated_amounts(text: str) -> list[_Amount]:
    """Every stated amount (yuan) in text order; earlier patterns win overlaps."""
    found: list[_Amount] = []

    def add(span: Span, value: float | None) -> None:
        if value is None or _excluded(text, span):
            return
        if any(a.span[0] < span[1] and span[0] < a.span[1] for a in found):
            return
        found.append(_Amount(span, value, _clause_before(text, span[0])))

    if "万" in text or "w" in text:
        for m in _RANGE_RE.finditer(text):
            add(m.span(), _scaled(_midpoint(m.group(1), m.group(2)), 10_000))
        for m in _PAIR_RE.finditer(text):
            add(m.span(), _pair_value(m) * 10_000)
        for m in _WAN_RE.finditer(text):
            add(m.span(), _wan_value(m))
    if "元" in text or "块" in text or "k" in text:
        for m in _YUAN_RE.finditer(text):
            add(m.span(), _num(m.group(1) or m.group(2)))
    if "个" in text:
        for m in _GE_RE.finditer(text):
            add((m.start(2), m.end()), _scaled(_midpoint(m.group(2), m.group(3)), 10_000))
    if "预算" in text or "budget" in text:
        for m in _BARE_RE.finditer(text):
            value = _num(m.group(1))
            add(m.span(1), value if value is None or value >= MIN_AMOUNT else value * 10_000)
    return sorted(found, key=lambda a: a.span)


def _scaled(value: float | None, factor: int) -> float | None:
    return None if value is None else value * factor


def _budget_of(amounts: list[_Amount]) -> list[_Amount]:
    """The amounts that make the budget: a stated total; parts that add up; the amount said
    to be the budget; else the first."""
    amounts = [a for a in amounts if a.value >= MIN_AMOUNT]
    if not amounts:
        return []
    totals = [a for a in amounts if _TOTAL.search(a.before)]
    if totals:
        return totals[:1]
    first, rest = amounts[0], amounts[1:]
    first_is_part = bool(_PART.search(first.before))
    parts = [
        a for a in rest if _ADDED.search(a.before) or (first_is_part and _PART.search(a.before))
    ]
    if rest and len(parts) == len(rest):
        return amounts
    named = [a for a in amounts if _BUDGET_WORD.search(a.before)]
    return (named or amounts)[:1]


def _per_square_total(text: str) -> tuple[float, list[Span]] | None:
    """Price per m² (a range at its midpoint) times the stated area, when both are present."""
    price = _PRICE_RE.search(text) if _has_area_unit(text) else None
    if not price:
        return None
    groups = price.groups()
    unit_price = _midpoint(groups[0], groups[1]) if groups[0] else _midpoint(*groups[2:])
    masked = text[: price.start()] + " " * len(price.group(0)) + text[price.end() :]
    for area in _AREA_RE.finditer(masked):
        size = _num(area.group(1) or area.group(2))
        if unit_price and size and MIN_AREA <= size <= MAX_AREA:
            return unit_price * size, sorted([price.span(), area.span()])
    return None


def _has_area_unit(text: str) -> bool:
    return "平" in text or "㎡" in text or "m2" in text or "m²" in text


def _mask_prices(text: str) -> str:
    """The text with unit prices blanked, so 每平1000元 is not read as a 1000-yuan total."""
    if not _has_area_unit(text):
        return text
    return _PRICE_RE.sub(lambda m: " " * len(m.group(0)), text)


def find_budget(normalized: str) -> tuple[int, list[Span]] | None:
    """Amount in yuan and the spans it was read from, in an already normalised text."""
    chosen = _budget_of(_stated_amounts(_mask_prices(normalized)))
    if chosen:
        return int(round(sum(a.value for a in chosen))), [a.span for a in chosen]
    per_square = _per_square_total(normalized)
    if per_square and per_square[0] >= MIN_AMOUNT:
        return int(round(per_square[0])), per_square[1]
    return None


def parse_budget(text: str, thresholds: BudgetThresholds | None = None) -> BudgetHit | None:
    """The stated budget in `text` (a total, a range's midpoint, parts added, or price/m² ×
    area), or None."""
    if not isinstance(text, str) or not text:
        return None
    found = find_budget(normalize(text))
    if found is None:
        return None
    amount, spans = found
    words = tuple(text[a:b] for a, b in spans)
    return BudgetHit(amount, budget_tier(amount, thresholds), words)
