"""Audit records for every change a person makes."""

from __future__ import annotations

from flask import g, has_request_context

from app.core.extensions import db
from app.models import AuditLog, Staff


def record(
    action: str,
    entity_type: str,
    entity_id: int | str,
    *,
    actor: Staff | str | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    """Add an audit row; `actor` is a staff member, or a label such as 'cli' or 'wechat'."""
    entry = AuditLog(
        actor_staff_id=actor.id if isinstance(actor, Staff) else None,
        actor=actor.name if isinstance(actor, Staff) else (actor or "system"),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        request_id=g.get("request_id", "") if has_request_context() else "",
    )
    db.session.add(entry)
    return entry
