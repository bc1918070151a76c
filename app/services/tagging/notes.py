"""Staff notes on a customer: one timeline event, audited, and tagged as staff evidence."""

from __future__ import annotations

from app.models import Customer, Staff, TimelineEvent
from app.services.customers import audit, timeline
from app.services.tagging import tagging


def add(customer: Customer, text: str, staff: Staff) -> tuple[TimelineEvent, list[str]]:
    """Record `text` (already stripped, 1..5000 characters) as a "note" event by `staff`;
    (the event, the tags it added as "维度:值")."""
    note = timeline.record(
        customer, "note", channel="api", actor_staff=staff, payload={"content": text}
    )
    audit.record("customer.note", "customer", customer.id, actor=staff, after={"event_id": note.id})
    return note, tagging.tag_staff_note(customer, text, staff, event=note)
