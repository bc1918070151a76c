"""A referral's steps on both people's timelines, and how names are shown to the other."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam

from app.core import prebuilt
from app.models import STEP_CODES, STEP_LABELS, Customer, Referral
from app.models.types import JSONType, UTCDateTime, utcnow
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

# The rewards a step earns: the setting holding its credits, and its ledger reference.
REWARD_SETTINGS = {"signed": "REFERRAL_SIGN_REWARD", "completed": "REFERRAL_COMPLETION_BONUS"}
REWARD_LABELS = {"signed": "签约奖励", "completed": "竣工奖励"}


@dataclass(frozen=True)
class Person:
    """What the hot paths read of a referrer or a referee, without the ORM: enough for
    self_referral, the review rules, mask_name and a notice's customer."""

    id: int
    name: str | None
    nickname: str | None
    phone_hash: str | None
    address: str | None

    display_name = Customer.display_name  # the notice's customer_name, as for a Customer


def rank(step: str) -> int:
    return STEP_CODES.index(step) if step in STEP_CODES else -1


def mask_name(customer: Customer | None) -> str:
    """「张**」: the first character and two stars (a nickname when there is no name)."""
    name = (customer.name or customer.nickname or "").strip() if customer else ""
    return (name[0] + "**") if name else "**"


def record_step(referral: Referral, step: str, kind: str = "referral_step") -> None:
    """The step as a timeline event of the referee and of the referrer: both rows in one
    INSERT (timeline.INSERT_EVENT, the timeline's own column list)."""
    prebuilt.execute(*step_events(referral, step, kind))


def step_events(referral: Referral, step: str, kind: str = "referral_step") -> tuple:
    """record_step's INSERT as (statement, values), for a caller that sends it together with
    other statements (prebuilt.execute_together)."""
    common = {"referral_id": referral.id, "step": step, "step_label": STEP_LABELS[step]}
    referee = {**common, "role": "referee", "referrer_id": referral.referrer_id}
    referrer = {
        **common,
        "role": "referrer",
        "referee_id": referral.referee_id,
        "referee": mask_name(referral.referee),
    }
    now = utcnow()
    rows = {}
    for n, (customer_id, payload) in enumerate(
        ((referral.referee_id, referee), (referral.referrer_id, referrer))
    ):
        values = {**_EVENT, "customer_id": customer_id, "kind": kind, "payload": payload}
        rows.update({f"{c}_{n}": values.get(c, now) for c in timeline.EVENT_COLUMNS})
    return _TWO_EVENTS, rows


_EVENT = {
    "channel": "system",
    "direction": "internal",
    "actor_type": "system",
    "actor_staff_id": None,
    "dedupe_key": None,
    "needs_enrichment": False,
}
_TWO_EVENTS = prebuilt.Statement(
    timeline.INSERT_EVENT
    + " VALUES "
    + ", ".join(
        "(" + ", ".join(f":{c}_{n}" for c in timeline.EVENT_COLUMNS) + ")" for n in range(2)
    ),
    *(
        bindparam(f"{c}_{n}", type_=JSONType if c == "payload" else UTCDateTime)
        for n in range(2)
        for c in ("payload", "occurred_at", "created_at")
    ),
)
