"""Who changed what, when: written by services for every change a person makes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import db
from app.models.types import BigId, JSONType, UTCDateTime, utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(50))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class FormSubmission(db.Model):
    """A console create form's one-time nonce, stored with what it created (in the same
    transaction): the form posted again (a double click, back and resubmit) creates nothing
    more (app.services.desk.submissions)."""

    __tablename__ = "form_submissions"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    form: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
