"""Model → JSON for the APIs; times in ISO 8601 UTC, phones masked unless the role needs them.
Money figures are taken out for roles that see none on the way out of every staff API route
(access.redact_money, applied by app.schemas.spec.endpoint)."""

from __future__ import annotations

from datetime import datetime

from app.models import Customer, Staff, TimelineEvent
from app.services.customers import access, phones
from app.services.tagging import tag_profile


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def customer_json(customer: Customer, viewer: Staff, *, detail: bool = False) -> dict:
    full = access.can_see_full_phone(viewer, customer)
    data = {
        "id": customer.id,
        "name": customer.display_name,
        "phone": phones.reveal(customer.phone_enc) if full else phones.masked(customer.phone_enc),
        "stage": customer.stage,
        "stage_label": customer.stage_label,
        "owner": {"id": customer.owner.id, "name": customer.owner.name} if customer.owner else None,
        "store": customer.store.name if customer.store else None,
        "source_channel": customer.source_channel,
        "created_at": iso(customer.created_at),
    }
    if detail:
        data.update(
            nickname=customer.nickname,
            gender=customer.gender,
            birthday=customer.birthday.isoformat() if customer.birthday else None,
            city=customer.city,
            community=customer.community,
            address=customer.address,
            identities=[{"kind": i.kind, "app_id": i.app_id} for i in customer.identities],
            updated_at=iso(customer.updated_at),
            **tag_profile.profile_json(customer),
        )
    return data


def event_json(event: TimelineEvent) -> dict:
    return {
        "id": event.id,
        "kind": event.kind,
        "channel": event.channel,
        "direction": event.direction,
        "occurred_at": iso(event.occurred_at),
        "actor": {"type": event.actor_type, "staff_id": event.actor_staff_id},
        "payload": event.payload,
    }
