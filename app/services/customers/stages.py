"""Customer lifecycle stage changes: one function, a timeline event and an audit row each.

Automatic moves (signing, first node started, completion accepted) never go backwards: a
customer already at 竣工 who signs a second contract stays at 竣工. A person may move a
customer back only by saying so (`allow_backwards=True`).
"""

from __future__ import annotations

from app.core import hooks
from app.models import STAGE_CODES, STAGE_LABELS, Customer, Staff
from app.services.customers import audit
from app.services.customers import timeline as timeline_service


class StageError(ValueError):
    """An unknown stage code."""


def rank(stage: str) -> int:
    return STAGE_CODES.index(stage) if stage in STAGE_CODES else -1


def change_stage(
    customer: Customer,
    stage: str,
    actor: Staff | str | None,
    reason: str,
    *,
    allow_backwards: bool = False,
) -> bool:
    """Move `customer` to `stage`; False (and nothing recorded) if it is not a move forward."""
    if stage not in STAGE_CODES:
        raise StageError(f"unknown stage {stage!r}")
    before = customer.stage
    if stage == before or (rank(stage) < rank(before) and not allow_backwards):
        return False
    customer.stage = stage
    payload = {
        "from": before,
        "to": stage,
        "from_label": STAGE_LABELS.get(before, before),
        "to_label": STAGE_LABELS[stage],
        "reason": reason,
    }
    staff = actor if isinstance(actor, Staff) else None
    timeline_service.record(
        customer,
        "stage_changed",
        channel="api" if staff else "system",
        payload=payload,
        actor_staff=staff,
    )
    audit.record(
        "customer.stage",
        "customer",
        customer.id,
        actor=actor,
        before={"stage": before},
        after={"stage": stage, "reason": reason},
    )
    hooks.run("stage_changed", customer.id, before, stage)  # see app/hooks.py
    return True
