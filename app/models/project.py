"""Construction projects (施工项目), their nodes, the node template and family members."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import UTCDateTime, utcnow

# 施工节点 status: English codes stored, Chinese labels shown.
NODE_STATUSES = (
    ("not_started", "未开始"),
    ("in_progress", "进行中"),
    ("pending_acceptance", "待验收"),
    ("accepted", "已验收"),
    ("rectifying", "整改中"),
)
NODE_STATUS_LABELS = dict(NODE_STATUSES)
PROJECT_STATUSES = (("active", "施工中"), ("completed", "已竣工"))
PROJECT_STATUS_LABELS = dict(PROJECT_STATUSES)
DEFAULT_NODES = ("开工交底", "水电改造", "水电验收", "泥瓦", "木工", "油漆", "安装", "竣工验收")
MEMBER_ROLES = ("family",)


class NodeTemplate(db.Model):
    """One node of the company's editable template; projects copy it when created."""

    __tablename__ = "node_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer)
    duration_days: Mapped[int] = mapped_column(Integer, default=7)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Project(db.Model):
    """A signed renovation contract for one customer. Money is integer fen (分)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    community: Mapped[str] = mapped_column(String(100), default="")
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    package_name: Mapped[str] = mapped_column(String(100), default="")
    contract_amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    contract_date: Mapped[date | None] = mapped_column(Date)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_completion: Mapped[date | None] = mapped_column(Date)
    sales_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    designer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    pm_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer = relationship("Customer")
    store = relationship("Store")
    sales = relationship("Staff", foreign_keys=[sales_id])
    designer = relationship("Staff", foreign_keys=[designer_id])
    pm = relationship("Staff", foreign_keys=[pm_id])
    supervisor = relationship("Staff", foreign_keys=[supervisor_id])
    nodes: Mapped[list[ProjectNode]] = relationship(
        back_populates="project", order_by="ProjectNode.position"
    )


class ProjectNode(db.Model):
    """One 施工节点 of a project: dates, status, acceptance and rejection count."""

    __tablename__ = "project_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date, index=True)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    rejection_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    project: Mapped[Project] = relationship(back_populates="nodes")
    accepted_by = relationship("Customer", foreign_keys=[accepted_by_customer_id])

    @property
    def status_label(self) -> str:
        return NODE_STATUS_LABELS.get(self.status, self.status)


class ProjectMember(db.Model):
    """A mini-program user other than the owner who may follow a project (家属): sees it,
    accepts nodes only when the owner allowed it (`can_accept`), never decides change orders."""

    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="family")
    # The owner's choice: may this family member accept (or refuse) nodes? Never money.
    can_accept: Mapped[bool] = mapped_column(default=False, server_default=false())
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
