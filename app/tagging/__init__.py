"""Chinese intent tagging of customer messages (pure: no Flask, no database)."""

from .budget import BudgetHit, parse_budget
from .engine import TagHit, TagResult, tag_text, tag_text_detailed
from .rules import Rule, RuleError, RuleFileError, RuleSet, default_rules, load_rules_file
from .taxonomy import MAX_ANALYSED_CHARS, TAXONOMY, BudgetThresholds, budget_tier

__all__ = [
    "MAX_ANALYSED_CHARS",
    "TAXONOMY",
    "BudgetHit",
    "BudgetThresholds",
    "Rule",
    "RuleError",
    "RuleFileError",
    "RuleSet",
    "TagHit",
    "TagResult",
    "budget_tier",
    "default_rules",
    "load_rules_file",
    "parse_budget",
    "tag_text",
    "tag_text_detailed",
]
