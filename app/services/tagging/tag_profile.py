"""A customer's tags as staff see them: the tag list, the budget, the value and a one-line label."""

from __future__ import annotations

from collections.abc import Sequence

from app.core.extensions import db
from app.models import Customer, CustomerTag, CustomerValue
from app.services.tagging import tagging
from app.tagging.taxonomy import BUDGET_DIMENSION, tag_sort_key

STYLE_DIMENSION = "风格"
UNCLASSIFIED = "未分类"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def tag_json(row: CustomerTag) -> dict:
    return {
        "tag": row.tag.label,
        "dimension": row.tag.dimension,
        "value": row.tag.value,
        "source": row.source,
        "evidence": row.evidence,
        "created_at": _iso(row.created_at),
    }


def ordered(rows: Sequence[CustomerTag]) -> list[CustomerTag]:
    """Taxonomy order; within a dimension a person's tags first, then the oldest."""
    return sorted(
        rows,
        key=lambda r: (
            *tag_sort_key(r.tag.dimension, r.tag.value)[:1],
            r.source != tagging.MANUAL,
            r.created_at,
            r.id,
        ),
    )


def _first(rows: Sequence[CustomerTag], dimension: str) -> CustomerTag | None:
    return next((r for r in rows if r.tag.dimension == dimension), None)


def budget_json(customer: Customer, rows: Sequence[CustomerTag]) -> dict | None:
    tier = _first(rows, BUDGET_DIMENSION)
    if tier is None and customer.budget_amount is None:
        return None
    evidence = customer.budget_evidence if customer.budget_amount is not None else None
    return {
        "amount": customer.budget_amount,
        "tier": tier.tag.value if tier else None,
        "evidence": evidence or (tier.evidence if tier else None),
    }


def value_json(value: CustomerValue | None) -> dict | None:
    """The customer's value (客户价值, app.services.value): level, label, score, reasons."""
    if value is None:
        return None
    return {
        "level": value.level,
        "label": value.label,
        "score": value.score,
        "reasons": value.reasons,
        "computed_at": _iso(value.computed_at),
    }


def label(
    customer: Customer, rows: Sequence[CustomerTag], value: CustomerValue | None = None
) -> str:
    """「高价值-高端-现代简约-施工」: value, budget tier, first style, stage; missing parts left
    out."""
    budget, style = _first(rows, BUDGET_DIMENSION), _first(rows, STYLE_DIMENSION)
    parts = [value.label if value else ""]
    parts += [budget.tag.value if budget else "", style.tag.value if style else ""]
    parts.append(customer.stage_label if customer.stage else "")
    return "-".join(p for p in parts if p) or UNCLASSIFIED


def profile_json(customer: Customer) -> dict:
    """{tags, budget, value, label} for the customer detail."""
    rows = ordered(tagging.active_tags(customer))
    value = db.session.get(CustomerValue, customer.id)
    return {
        "tags": [tag_json(r) for r in rows],
        "budget": budget_json(customer, rows),
        "value": value_json(value),
        "label": label(customer, rows, value),
    }
