"""tag_text: a customer message in, intent tags with their evidence out. Pure, no I/O."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .budget import find_budget
from .context import refine
from .hits import TagHit
from .rules import Match, Rule, RuleSet
from .segment import CLAUSE_BREAKS, normalize, tokenize
from .taxonomy import (
    BUDGET_DIMENSION,
    MAX_ANALYSED_CHARS,
    BudgetThresholds,
    budget_tier,
    tag_sort_key,
)

BUDGET_AMOUNT_RULE = "预算金额"
CONCERN_DIMENSION = "关注"

# A negator this many tokens before a word cancels it ("不喜欢那种花哨的欧式").
NEGATION_WINDOW = 5
NEGATORS = frozenset(
    ("不", "不要", "不想", "别", "没有", "没", "不喜欢", "不太喜欢", "不考虑", "不是", "不用")
    + ("不需要", "无需", "不必", "不打算", "不做", "不搞", "别搞", "不选", "不爱", "拒绝")
    + ("不想要", "不想用", "不想做", "不来", "没来", "从来不", "从不", "从没", "从来没")
)
# "没有电梯的老房子": 没有 only negates what directly follows it.
NEAR_NEGATORS = {"没有": 2, "没": 2}
# Where the negated part ends: "不是新房，是老房子", "不要美式想要新中式".
CONTRAST = frozenset(
    ("但", "但是", "是", "而是", "只是", "不过", "还是", "或者", "或", "想要", "就要", "只要")
    + ("而", "可是")
)
# "地中海就算了": the rejection comes after the word.
_POST_NEGATION = re.compile(r"^.{0,3}?(?:就算了|算了|不考虑|不要了|不喜欢|不太喜欢|pass|排除)")
# "欧式太花哨": said of a style only (「老人房别做太花哨」 still wants the room done).
STYLE_DIMENSION = "风格"
_STYLE_POST_NEGATION = re.compile(r"^.{0,3}?太(?:繁琐|花哨|老气|复杂|土|俗|夸张|冷淡|压抑|过时|素)")
# Concerns are negated only by indifference: 「工期不要太长」 is still a concern.
_CONCERN_PRE = re.compile(
    r"[不没无](?:是|太|很|怎么|那么|特别|用|着)*(?:在乎|在意|关心|担心|着急|急|需要|要求)"
)
_CONCERN_POST = re.compile(
    r"^.{0,4}?(?:无所谓|没关系|不重要|不着急|不急|都行|随便|不是问题|不在乎|要求不.{0,3}高)"
)
# Urgency words are negated by a 不 right before them: 「不急着住」.
_URGENCY = ("急", "着急", "赶")


@dataclass(frozen=True)
class TagResult:
    """All hits of a message, and whether only its head was analysed."""

    hits: tuple[TagHit, ...]
    truncated: bool
    analysed_chars: int
    tags: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(h.tag for h in self.hits))


@lru_cache(maxsize=32)
def _compiled(rules: tuple[Rule, ...]) -> RuleSet:
    return RuleSet(rules)


def _ruleset(rules: RuleSet | Iterable[Rule] | None) -> RuleSet:
    if rules is None:
        return RuleSet.default()
    if isinstance(rules, RuleSet):
        return rules
    return _compiled(tuple(rules))


def _as_text(text: object) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    return text if isinstance(text, str) else str(text)


def _negated_before(tokens: list[str], index: int) -> bool:
    """A negator among the few tokens before token `index`, within the clause."""
    for distance in range(1, NEGATION_WINDOW + 1):
        j = index - distance
        if j < 0:
            return False
        tok = tokens[j]
        if tok[0] in CLAUSE_BREAKS or tok.isspace() or tok in CONTRAST:
            return False
        if tok in NEGATORS and distance <= NEAR_NEGATORS.get(tok, NEGATION_WINDOW):
            return True
    return False


def _negated(
    m: Match, text: str, tokens: list[str], starts: list[int], clause: tuple[int, int]
) -> bool:
    """True when the customer says they do not want / are not about the matched word."""
    begin, finish = clause
    after = text[m.end : finish]
    if m.rule.dimension == CONCERN_DIMENSION:
        before = text[begin : m.start]
        urgency_denied = before[-1:] in ("不", "没", "别") and text.startswith(_URGENCY, m.start)
        return bool(_CONCERN_PRE.search(before) or _CONCERN_POST.search(after) or urgency_denied)
    index = bisect_right(starts, m.start) - 1
    inside_negator = starts[index] < m.start and tokens[index] in NEGATORS  # 不来…现场
    if inside_negator or _negated_before(tokens, index) or _POST_NEGATION.search(after):
        return True
    return m.rule.dimension == STYLE_DIMENSION and bool(_STYLE_POST_NEGATION.search(after))


def _token_starts(tokens: list[str]) -> list[int]:
    starts, pos = [], 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok)
    return starts


def _rule_matches(text: str, ruleset: RuleSet) -> list[Match]:
    """Matches that are neither negated nor excluded, in text order."""
    tokens = tokenize(text)
    starts = _token_starts(tokens)
    breaks = [i for i, ch in enumerate(text) if ch in CLAUSE_BREAKS]
    kept = []
    for m in sorted(ruleset.find(text, starts), key=lambda m: (m.start, -m.end)):
        clause = _clause(breaks, len(text), m)
        if ruleset.excluded(m, text[clause[0] : clause[1]]):
            continue
        if not _negated(m, text, tokens, starts, clause):
            kept.append(m)
    return kept


def _clause(breaks: list[int], size: int, m: Match) -> tuple[int, int]:
    """The [begin, finish) span of the clause holding a match: from the break before it to the
    break after it (`breaks`, the positions of CLAUSE_BREAKS in the text, found once)."""
    i = bisect_right(breaks, m.start - 1)
    begin = breaks[i - 1] + 1 if i else 0
    j = bisect_right(breaks, m.end - 1)
    return begin, breaks[j] if j < len(breaks) else size


def _merge(matches: list[Match], original: str) -> list[TagHit]:
    """One hit per tag: words merged in order of appearance, the first rule named."""
    merged: dict[tuple[str, str], TagHit] = {}
    for m in matches:
        key = (m.rule.dimension, m.rule.value)
        word = original[m.start : m.end]
        hit = merged.get(key)
        if hit is None:
            merged[key] = TagHit(key[0], key[1], (word,), m.rule.name)
        elif word not in hit.words:
            merged[key] = TagHit(key[0], key[1], (*hit.words, word), hit.rule)
    return list(merged.values())


def _budget_hits(
    text: str, original: str, word_hits: list[TagHit], thresholds: BudgetThresholds | None
) -> list[TagHit]:
    """A stated amount wins over budget words; otherwise the first budget word's tier."""
    found = find_budget(text)
    if found is not None:
        amount, spans = found
        words = tuple(original[a:b] for a, b in spans)
        tier = budget_tier(amount, thresholds)
        return [TagHit(BUDGET_DIMENSION, tier, words, BUDGET_AMOUNT_RULE, amount)]
    return [h for h in word_hits if h.dimension == BUDGET_DIMENSION][:1]


def _thresholds(value: BudgetThresholds | tuple[int, int] | None) -> BudgetThresholds | None:
    if value is None or isinstance(value, BudgetThresholds):
        return value
    high, mid = value
    return BudgetThresholds(high=int(high), mid=int(mid))


def tag_text_detailed(
    text: object,
    rules: RuleSet | Iterable[Rule] | None = None,
    *,
    thresholds: BudgetThresholds | tuple[int, int] | None = None,
) -> TagResult:
    """Tag a message; only its first MAX_ANALYSED_CHARS characters are read."""
    full = _as_text(text)
    original = full[:MAX_ANALYSED_CHARS]
    normalized = normalize(original)
    hits: list[TagHit] = []
    if normalized.strip():
        word_hits = _merge(_rule_matches(normalized, _ruleset(rules)), original)
        hits = [h for h in word_hits if h.dimension != BUDGET_DIMENSION]
        hits += _budget_hits(normalized, original, word_hits, _thresholds(thresholds))
        hits = refine(hits, normalized)
    hits.sort(key=lambda h: tag_sort_key(h.dimension, h.value))
    return TagResult(tuple(hits), len(full) > MAX_ANALYSED_CHARS, len(original))


def tag_text(
    text: object,
    rules: RuleSet | Iterable[Rule] | None = None,
    *,
    thresholds: BudgetThresholds | tuple[int, int] | None = None,
) -> list[TagHit]:
    """The tags of a message (see tag_text_detailed for truncation info)."""
    return list(tag_text_detailed(text, rules, thresholds=thresholds).hits)
