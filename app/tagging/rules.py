"""Tagging rules: the data model, the rules-file loader and the compiled rule set."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .segment import CLAUSE_BREAKS, USERDICT_PATH, normalize, read_userdict
from .taxonomy import TAXONOMY

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "data" / "rules.txt"
GAP = "…"  # in a word, "A…B" means A then B a few characters later in the same clause
ALT = "/"  # in a word, "A/B" means A or B
WILD = "*"  # in a word, one chinese character ("*店": 花店, 美甲店…); matched as plain text
_HAN = "[\u4e00-\u9fff]"
GAP_MAX_CHARS = 6
# A gap may cross a space: customers type one where a comma would go, and the words on
# both sides of it still belong together (「地漏有臭味 怎么处理」).
_GAP_FILL = "[^" + re.escape("".join(sorted(CLAUSE_BREAKS - {" "}))) + f"]{{0,{GAP_MAX_CHARS}}}"
# Domain words the tokenizer keeps whole: never looked inside for a shorter word.
WHOLE_WORDS = frozenset(word for word, _ in read_userdict(USERDICT_PATH))
_NEGATING_CHARS = frozenset("不没别无非未莫")
# Dimensions whose words keep their sense at the start of a compound (质量第一 is about 质量).
TOPIC_FIRST = frozenset(("关注",))
_SEPARATORS = re.compile(r"[,，、]")
_EXCLUDE_KEYS = ("除外", "排除", "exclude")


class RuleError(ValueError):
    """A rule that cannot be used: unknown dimension or value, or no words."""


class RuleFileError(RuleError):
    """A rules file that cannot be loaded; the message names the line."""

    def __init__(self, source: str, lineno: int, line: str, reason: str) -> None:
        super().__init__(f"{source} 第{lineno}行: {reason}: {line.strip()}")
        self.source, self.lineno, self.line, self.reason = source, lineno, line, reason


def _clean_words(words: Iterable[str]) -> tuple[str, ...]:
    """Normalised, de-duplicated, non-empty words; '...' is accepted for the gap mark."""
    out: dict[str, None] = {}
    for w in words:
        w = normalize(str(w)).strip().replace("...", GAP)
        if w.strip(GAP + ALT):
            out[w] = None
    return tuple(out)


@dataclass(frozen=True)
class Rule:
    """Words (and synonyms) that give one tag `dimension:value`, unless an exclusion is near."""

    dimension: str
    value: str
    words: tuple[str, ...]
    exclusions: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if self.dimension not in TAXONOMY:
            raise RuleError(f"未知维度 '{self.dimension}'")
        if self.value not in TAXONOMY[self.dimension]:
            raise RuleError(f"维度 '{self.dimension}' 没有取值 '{self.value}'")
        object.__setattr__(self, "words", _clean_words(self.words))
        object.__setattr__(self, "exclusions", _clean_words(self.exclusions))
        if not self.words:
            raise RuleError(f"规则 '{self.tag}' 没有词")
        for word in self.words + self.exclusions:
            if not all(a.replace(WILD, "") for a in _first_piece(word)):
                raise RuleError(f"词 '{word}' 除了 * 还要有字")
        if not self.name:
            object.__setattr__(self, "name", self.tag)

    @property
    def tag(self) -> str:
        return f"{self.dimension}:{self.value}"


def _parse_line(line: str) -> tuple[str, str, list[str], list[str]]:
    """`维度:值 = 词, 词 ; 除外 = 词` → (dimension, value, words, exclusions)."""
    head, eq, rest = line.partition("=")
    if not eq:
        raise RuleError("缺少 '=' (格式: 维度:值 = 词1, 词2 ; 除外 = 词3)")
    dimension, colon, value = head.strip().replace("：", ":").partition(":")
    if not colon:
        raise RuleError("标签应写成 维度:值")
    sections = re.split(r"[;；]", rest)
    exclusions: list[str] = []
    for extra in sections[1:]:
        key, eq, words = extra.partition("=")
        if not eq or key.strip() not in _EXCLUDE_KEYS:
            raise RuleError("分号后只能是 '除外 = 词, 词'")
        exclusions += _SEPARATORS.split(words)
    return dimension.strip(), value.strip(), _SEPARATORS.split(sections[0]), exclusions


def parse_rules(lines: Iterable[str], source: str = "rules.txt") -> list[Rule]:
    """Rules from the lines of a rules file; the first bad line raises RuleFileError."""
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            dimension, value, words, exclusions = _parse_line(line)
            rule = Rule(dimension, value, tuple(words), tuple(exclusions))
        except RuleError as exc:
            raise RuleFileError(source, lineno, raw, str(exc)) from None
        seen[rule.tag] = seen.get(rule.tag, 0) + 1
        name = rule.tag if seen[rule.tag] == 1 else f"{rule.tag}#{seen[rule.tag]}"
        rules.append(Rule(dimension, value, rule.words, rule.exclusions, name))
    return rules


def load_rules_file(path: str | Path) -> list[Rule]:
    """Rules from a UTF-8 rules file (see data/rules.txt for the format)."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        return parse_rules(fh, source=path.name)


@lru_cache(maxsize=1)
def _default_rules() -> tuple[Rule, ...]:
    return tuple(load_rules_file(DEFAULT_RULES_PATH))


def default_rules() -> list[Rule]:
    """The rules shipped with the app (data/rules.txt)."""
    return list(_default_rules())


def _alternatives(piece: str) -> list[str]:
    """'厨房/卫生间' → ['厨房', '卫生间'], longest first so the regex prefers them."""
    return sorted((a for a in piece.split(ALT) if a), key=len, reverse=True)


def _is_pattern(word: str) -> bool:
    """Gap and wildcard words are matched as regular expressions over the plain text."""
    return GAP in word or WILD in word


def _alt_regex(alt: str) -> str:
    return re.escape(alt).replace(re.escape(WILD), _HAN)


def _gap_regex(word: str) -> re.Pattern[str]:
    pieces = [p for p in word.split(GAP) if p.strip(ALT)]
    alts = ["(?:" + "|".join(_alt_regex(a) for a in _alternatives(p)) + ")" for p in pieces]
    return re.compile(_GAP_FILL.join(alts))


def _first_piece(word: str) -> tuple[str, ...]:
    """Strings one of which must be in the text for the gap word to match (a cheap pre-check)."""
    return tuple(_alternatives(next(p for p in word.split(GAP) if p.strip(ALT))))


def _triggers(word: str) -> set[str]:
    """The literal part of each first alternative ('*店' → '店')."""
    return {max(a.split(WILD), key=len) for a in _first_piece(word)}


@dataclass(frozen=True)
class Match:
    """One occurrence of a rule word in the normalised text."""

    rule: Rule
    start: int
    end: int


@dataclass
class _Compiled:
    # literal words keyed by their first two characters (one for one-character words)
    literals: dict[str, list[tuple[str, Rule]]] = field(default_factory=dict)
    # the first characters of literal words: a token starting otherwise is skipped at once
    first_chars: set[str] = field(default_factory=set)
    # literal words of two or more characters → their rules (for the ends of long tokens)
    words: dict[str, list[Rule]] = field(default_factory=dict)
    # (pattern, rule, whether a match starts with a wildcard: its start moves to the token's)
    gaps: list[tuple[re.Pattern[str], Rule, bool]] = field(default_factory=list)
    # first piece of each gap word → indexes into `gaps`: a cheap `in` test before the regex
    gap_triggers: dict[str, list[int]] = field(default_factory=dict)
    # the triggers by their first character, so a message is checked only for those it may hold
    triggers_by_char: dict[str, list[str]] = field(default_factory=dict)
    exclusions: dict[Rule, list[re.Pattern[str] | str]] = field(default_factory=dict)


class RuleSet:
    """Rules compiled for matching: literal words indexed by first character, gap words as regex."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._c = _Compiled()
        for rule in self.rules:
            self._add(rule)
        for entries in self._c.literals.values():
            entries.sort(key=lambda e: -len(e[0]))
        for trigger in self._c.gap_triggers:
            self._c.triggers_by_char.setdefault(trigger[0], []).append(trigger)

    @classmethod
    def from_rules(cls, rules: Sequence[Rule]) -> RuleSet:
        return cls(rules)

    @classmethod
    def default(cls) -> RuleSet:
        return _default_ruleset()

    def _add(self, rule: Rule) -> None:
        for word in rule.words:
            if _is_pattern(word):
                for first in _triggers(word):
                    self._c.gap_triggers.setdefault(first, []).append(len(self._c.gaps))
                self._c.gaps.append((_gap_regex(word), rule, word.startswith(WILD)))
                continue
            for alt in _alternatives(word):
                self._c.literals.setdefault(alt[:2], []).append((alt, rule))
                self._c.first_chars.add(alt[0])
                if len(alt) >= 2:
                    self._c.words.setdefault(alt, []).append(rule)
        excl: list[re.Pattern[str] | str] = []
        for w in rule.exclusions:
            excl += [_gap_regex(w)] if _is_pattern(w) else _alternatives(w)
        self._c.exclusions[rule] = excl

    def find(self, text: str, starts: Sequence[int]) -> list[Match]:
        """Rule words in `text`; literal words must start and end on token boundaries, or
        end a longer token that is no rule word itself (工艺 in 施工工艺, 不亮 in 灯不亮)."""
        bounds = set(starts)
        bounds.add(len(text))
        found = []
        literals, firsts = self._c.literals, self._c.first_chars
        matched_at = set()
        for p in starts:
            if text[p] not in firsts:
                continue
            for key in (text[p : p + 2], text[p]):
                for word, rule in literals.get(key, ()):
                    end = p + len(word)
                    if end in bounds and text.startswith(word, p):
                        found.append(Match(rule, p, end))
                        matched_at.add(p)
        found += self._find_suffixes(text, starts, matched_at)
        return found + self._find_gaps(text, starts)

    def _find_suffixes(self, text: str, starts: Sequence[int], skip: set[int]) -> list[Match]:
        """Words of two or more characters that end a token of three or more, in tokens where
        no word starts (Chinese compounds put the head last: 施工工艺 is a kind of 工艺;
        the start of a token is not looked inside: 全屋定制 is no 全屋). Not inside the
        domain words kept whole (中高端 is no 高端), nor after a negating character (没多久).
        A concern also counts at the start of a token: 质量第一, 价格表, 甲醛超标."""
        found = []
        words = self._c.words
        ends = [*starts[1:], len(text)]
        for p, end in zip(starts, ends, strict=True):
            if end - p < 3 or p in skip or text[p:end] in WHOLE_WORDS:
                continue
            for k in range(end - p - 1, 1, -1):
                rules = words.get(text[end - k : end])
                if rules and text[end - k - 1] not in _NEGATING_CHARS:
                    found += [Match(rule, end - k, end) for rule in rules]
                rules = words.get(text[p : p + k])
                if rules:
                    found += [Match(r, p, p + k) for r in rules if r.dimension in TOPIC_FIRST]
        return found

    def _find_gaps(self, text: str, starts: Sequence[int]) -> list[Match]:
        """Gap and wildcard words, trying only those whose first piece occurs in the text.
        A match that starts with a wildcard is widened to the start of its token (花店 in
        开了个花店, 母婴店 in 母婴/店), so the evidence reads as a word."""
        triggers, by_char = self._c.gap_triggers, self._c.triggers_by_char
        present = [t for ch in set(text) for t in by_char.get(ch, ()) if t in text]
        candidates = sorted({i for t in present for i in triggers[t]})
        found = []
        for i in candidates:
            pattern, rule, widen = self._c.gaps[i]
            for m in pattern.finditer(text):
                start = m.start()
                if widen and starts:
                    start = starts[max(0, bisect_right(starts, start) - 1)]
                found.append(Match(rule, start, m.end()))
        return found

    def excluded(self, match: Match, clause: str) -> bool:
        """True when one of the rule's exclusions occurs in the match's clause."""
        for ex in self._c.exclusions.get(match.rule, ()):
            if (ex in clause) if isinstance(ex, str) else ex.search(clause):
                return True
        return False


@lru_cache(maxsize=1)
def _default_ruleset() -> RuleSet:
    return RuleSet(_default_rules())
