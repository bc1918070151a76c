"""A referral's steps on both people's timelines, and how names are shown to the other."""

from __future__ import annotations

from app.core.extensions import db
from app.models import STEP_CODES, STEP_LABELS, Customer, Referral
from app.services.customers import timeline

# Lifecycle stage (app.models.STAGES) → referral step.
STEP_OF_STAGE = {
    "lead": "registered",
    "measured": "measured",
    "design": "measured",
    "quoted": "measured",
    "contract": "signed",
    "construction": "signed",
    "completed": "completed",
    "after_sales": "completed",
}


def rank(step: str) -> int:
    return STEP_CODES.index(step) if step in STEP_CODES else -1


def mask_name(customer: Customer | None) -> str:
    """「张**」: the first character and two stars (a nickname when there is no name)."""
    name = (customer.name or customer.nickname or "").strip() if customer else ""
    return (name[0] + "**") if name else "**"


def record_step(referral: Referral, step: str, kind: str = "referral_step") -> None:
    """The step as a timeline event of the referee and of the referrer."""
    referrer = db.session.get(Customer, referral.referrer_id)
    referee = db.session.get(Customer, referral.referee_id)
    common = {"referral_id": referral.id, "step": step, "step_label": STEP_LABELS[step]}
    timeline.record(
        referee,
        kind,
        payload={**common, "role": "referee", "referrer_id": referrer.id},
    )
    timeline.record(
        referrer,
        kind,
        payload={
            **common,
            "role": "referrer",
            "referee_id": referee.id,
            "referee": mask_name(referee),
        },
    )
