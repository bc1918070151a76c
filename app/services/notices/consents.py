"""Subscribe-message consents from the mini program (wx.requestSubscribeMessage results)."""

from __future__ import annotations

from sqlalchemy import select

from app.core.extensions import db
from app.models import Customer, MessageConsent

STATUSES = ("accept", "reject", "ban", "filter")


def record(customer: Customer, results: dict[str, str], channel: str = "mini") -> list:
    """Store each template's answer; every 'accept' grants one more one-time send."""
    rows = []
    for template_id, status in results.items():
        row = db.session.scalars(
            select(MessageConsent).filter_by(
                customer_id=customer.id, channel=channel, template_id=template_id
            )
        ).first()
        if row is None:
            row = MessageConsent(
                customer_id=customer.id, channel=channel, template_id=template_id, remaining=0
            )
            db.session.add(row)
        row.status = status
        if status == "accept":
            row.remaining = (row.remaining or 0) + 1
        rows.append(row)
    db.session.flush()
    return rows
