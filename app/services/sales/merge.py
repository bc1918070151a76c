"""Two customers merged (hook "customers_merged"): their sales rows become the kept one's.

Follow-ups and lead moves are history and move as they are. Of the two leads the kept
customer's stays when it has one (its owner, SLA and pool state go on), and the merged
customer's is dropped, so no sweep reminds anyone about a customer that no longer exists;
a kept customer without a lead takes the other's whole.
"""

from __future__ import annotations

from sqlalchemy import delete, update

from app.core.extensions import db
from app.models import FollowUp, Lead, LeadMove


def on_merge(source_id: int, target_id: int) -> None:
    """Move `source_id`'s follow-ups, lead moves and (if `target_id` has none) its lead."""
    for model in (FollowUp, LeadMove):
        db.session.execute(
            update(model).where(model.customer_id == source_id).values(customer_id=target_id)
        )
    if db.session.get(Lead, target_id) is None:
        db.session.execute(
            update(Lead).where(Lead.customer_id == source_id).values(customer_id=target_id)
        )
    else:
        db.session.execute(delete(Lead).where(Lead.customer_id == source_id))
