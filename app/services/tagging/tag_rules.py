"""Tagging rules in the database: validation, the shipped defaults, and the per-process cache.

Every change bumps a version counter (a `tagging_state` row). Each process keeps its
compiled `RuleSet` with the version it was built from and re-reads the counter at most
once every VERSION_CHECK_SECONDS, so a rule edited in one process applies everywhere
within that time, and at once in the process that made the change.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import func, select, update

from app.core.database import insert_once, load_row
from app.core.errors import Invalid, NotFound
from app.core.extensions import db
from app.models import Staff, TaggingState, TagRule
from app.services.customers import audit
from app.tagging import TAXONOMY, Rule, RuleError, RuleSet, default_rules

log = logging.getLogger(__name__)

VERSION_KEY = "rules_version"
VERSION_CHECK_SECONDS = 2.0
MAX_WORDS = 200
MAX_WORD_CHARS = 50


class RuleInputError(Invalid, ValueError):
    """Rule input that cannot be used; `fields` maps each bad field to a Chinese message."""

    code = "invalid_rule"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("规则内容有误", fields=fields)


def _word_list(raw: object, field: str, errors: dict[str, str]) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace("，", ",").replace("、", ",").split(",")
    if not isinstance(raw, list) or not all(isinstance(w, str) for w in raw):
        errors[field] = "应为词的列表（字符串数组）"
        return []
    words = list(dict.fromkeys(w.strip() for w in raw if w.strip()))
    if len(words) > MAX_WORDS:
        errors[field] = f"最多 {MAX_WORDS} 个词"
    elif any(len(w) > MAX_WORD_CHARS for w in words):
        errors[field] = f"每个词最多 {MAX_WORD_CHARS} 个字"
    return words


def validate(data: dict) -> dict:
    """Clean {dimension, value, words, exclusions, active}; RuleInputError names bad fields."""
    errors: dict[str, str] = {}
    dimension, value = (
        str(data.get("dimension") or "").strip(),
        str(data.get("value") or "").strip(),
    )
    if dimension not in TAXONOMY:
        errors["dimension"] = f"未知维度「{dimension}」，可选：{'、'.join(TAXONOMY)}"
    elif value not in TAXONOMY[dimension]:
        errors["value"] = (
            f"维度「{dimension}」没有取值「{value}」，可选：{'、'.join(TAXONOMY[dimension])}"
        )
    words = _word_list(data.get("words", []), "words", errors)
    if not words and "words" not in errors:
        errors["words"] = "至少需要一个词"
    exclusions = _word_list(data.get("exclusions", []), "exclusions", errors)
    active = data.get("active", True)
    if not isinstance(active, bool):
        errors["active"] = "应为 true 或 false"
    if not errors:
        try:
            Rule(dimension, value, tuple(words), tuple(exclusions))
        except RuleError as exc:
            errors["words"] = str(exc)
    if errors:
        raise RuleInputError(errors)
    return {
        "dimension": dimension,
        "value": value,
        "words": words,
        "exclusions": exclusions,
        "active": active,
    }


def snapshot(row: TagRule) -> dict:
    return {
        "dimension": row.dimension,
        "value": row.value,
        "words": list(row.words),
        "exclusions": list(row.exclusions),
        "active": row.active,
    }


def create(data: dict, staff: Staff) -> TagRule:
    """A staff rule; the first one into an empty table brings the defaults in beside it
    (an empty table means "the shipped rules", and one new rule must not switch them off)."""
    clean = validate(data)
    if not db.session.scalar(select(func.count(TagRule.id))):
        load_defaults(actor=staff)
    row = TagRule(**clean, source="staff", updated_by_id=staff.id)
    db.session.add(row)
    db.session.flush()
    audit.record("tag_rule.create", "tag_rule", row.id, actor=staff, after=snapshot(row))
    bump_version()
    return row


def update_rule(row: TagRule, data: dict, staff: Staff) -> TagRule:
    """Change some fields of a rule (the others are kept)."""
    before = snapshot(row)
    clean = validate({**before, **data})
    for field, value in clean.items():
        setattr(row, field, value)
    row.updated_by_id = staff.id
    audit.record("tag_rule.update", "tag_rule", row.id, actor=staff, before=before, after=clean)
    bump_version()
    return row


def load(rule_id: int) -> TagRule:
    """One rule; NotFound for any other id."""
    return load_row(TagRule, rule_id, missing="规则不存在")


def page(filters: dict, after: int | None, limit: int) -> tuple[list[TagRule], str | None]:
    """Rules in id order matching `filters` ({dimension, value, active}: None = any), after
    the id `after`; (rows, the next page's cursor or None)."""
    query = select(TagRule).order_by(TagRule.id)
    for field in ("dimension", "value", "active"):
        if filters.get(field) is not None:
            query = query.where(getattr(TagRule, field) == filters[field])
    if after is not None:
        query = query.where(TagRule.id > after)
    rows = db.session.scalars(query.limit(limit + 1)).all()
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return list(rows[:limit]), next_cursor


def deactivate(row: TagRule, staff: Staff) -> TagRule:
    before = snapshot(row)
    row.active, row.updated_by_id = False, staff.id
    audit.record(
        "tag_rule.deactivate", "tag_rule", row.id, actor=staff, before=before, after=snapshot(row)
    )
    bump_version()
    return row


def load_defaults(actor: Staff | str = "cli") -> int:
    """Add the shipped rules (data/rules.txt) that the table lacks; returns how many were added.

    A default staff deactivated or edited stays as they left it."""
    known = set(
        db.session.scalars(select(TagRule.default_key).where(TagRule.default_key.is_not(None)))
    )
    added = 0
    for rule in default_rules():
        if rule.name in known:
            continue
        db.session.add(
            TagRule(
                dimension=rule.dimension,
                value=rule.value,
                words=list(rule.words),
                exclusions=list(rule.exclusions),
                source="default",
                default_key=rule.name,
            )
        )
        added += 1
    if added:
        db.session.flush()
        audit.record(
            "tag_rule.load_defaults", "tag_rule", "defaults", actor=actor, after={"added": added}
        )
        bump_version()
    return added


def rules_version() -> int:
    return db.session.scalar(select(TaggingState.number).filter_by(key=VERSION_KEY)) or 0


def bump_version() -> None:
    """Tell every process its cached rule set is stale (and forget this process's at once)."""
    bumped = db.session.execute(
        update(TaggingState).filter_by(key=VERSION_KEY).values(number=TaggingState.number + 1)
    ).rowcount
    if not bumped and not insert_once(TaggingState(key=VERSION_KEY, number=1)):
        bump_version()  # another process created it meanwhile
        return
    forget_rules()


@dataclass(frozen=True)
class _Cached:
    version: int
    ruleset: RuleSet
    checked_at: float


_cache: list[_Cached] = []


def forget_rules() -> None:
    """Drop this process's compiled rules (after a change, and in tests)."""
    _cache.clear()


def _build_ruleset() -> RuleSet:
    rows = db.session.scalars(select(TagRule).filter_by(active=True).order_by(TagRule.id)).all()
    if not rows and not db.session.scalar(select(func.count(TagRule.id))):
        return RuleSet.default()  # rules never loaded: the shipped ones
    rules = []
    for row in rows:
        try:
            rules.append(
                Rule(
                    row.dimension,
                    row.value,
                    tuple(row.words),
                    tuple(row.exclusions),
                    f"{row.tag}@{row.id}",
                )
            )
        except RuleError as exc:  # e.g. a value the taxonomy dropped: skip it, keep tagging
            log.warning("tag rule skipped", extra={"rule_id": row.id, "error": str(exc)})
    return RuleSet.from_rules(rules)


def current_ruleset() -> RuleSet:
    """The active rules, compiled once per version; the version is checked every few seconds."""
    now = time.monotonic()
    cached = _cache[0] if _cache else None
    if cached and now - cached.checked_at < VERSION_CHECK_SECONDS:
        return cached.ruleset
    version = rules_version()
    ruleset = cached.ruleset if cached and cached.version == version else _build_ruleset()
    _cache[:] = [_Cached(version, ruleset, now)]
    return ruleset


def get(rule_id: int) -> TagRule:
    """The rule; NotFound when there is none."""
    row = db.session.get(TagRule, rule_id) if 0 < rule_id < 2**31 else None
    if row is None:
        raise NotFound("规则不存在")
    return row


def listing(dimension: str = "") -> list[TagRule]:
    """Every rule (of one dimension), staff's first, then the shipped ones."""
    query = select(TagRule).order_by(TagRule.dimension, TagRule.value, TagRule.id)
    if dimension:
        query = query.where(TagRule.dimension == dimension)
    return list(db.session.scalars(query))
