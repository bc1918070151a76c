"""What happens on site: progress entries, rejections, change orders, invite codes, uploads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import BigId, JSONType, UTCDateTime, utcnow

ENTRY_KINDS = (("log", "施工日志"), ("qc", "监理巡检"))
HAZARD_LEVELS = (("low", "一般"), ("medium", "较重"), ("high", "严重"))
CHANGE_STATUSES = (("proposed", "待确认"), ("approved", "已同意"), ("rejected", "已拒绝"))
INVITE_KINDS = (("owner", "业主"), ("family", "家属"))


class ProgressEntry(db.Model):
    """A PM daily log or a supervisor QC report; the homeowner's feed, newest first.

    `photos` is a list of {key, thumb, type, width, height}; `findings` (QC only) a list of
    {text, hazard, photo}.
    """

    __tablename__ = "progress_entries"
    __table_args__ = (
        # The feed: newest entries of one project, keyset-paginated on (created_at, id).
        Index("ix_progress_project_recent", "project_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    node_id: Mapped[int | None] = mapped_column(ForeignKey("project_nodes.id"))
    kind: Mapped[str] = mapped_column(String(10))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list] = mapped_column(JSONType, default=list)
    findings: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("Staff")
    node = relationship("ProjectNode")


class NodeRejection(db.Model):
    """The homeowner refused a node (验收不通过): a rectification (整改) until the PM closes it."""

    __tablename__ = "node_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("project_nodes.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    photos: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    close_note: Mapped[str] = mapped_column(Text, default="")

    node = relationship("ProjectNode")


class ChangeOrder(db.Model):
    """在线调整预算: staff propose an item (+/− fen); the homeowner approves or rejects."""

    __tablename__ = "change_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    item: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    proposed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_by_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project = relationship("Project")


class Invite(db.Model):
    """A short code a rep gives a homeowner (or a family member) to bind the mini program."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="owner")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhotoUpload(db.Model):
    """A photo a homeowner uploaded from the mini program, to cite in a later request (a
    rejection). One never cited is deleted, files and row, once its token has expired."""

    __tablename__ = "photo_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    thumb: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    cited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
