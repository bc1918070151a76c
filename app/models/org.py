"""Stores, staff and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.extensions import db
from app.models.types import UTCDateTime, utcnow

ROLES = ("admin", "manager", "sales", "designer", "pm", "supervisor", "service")
ROLE_LABELS = {
    "admin": "管理员",
    "manager": "店长",
    "sales": "销售顾问",
    "designer": "设计师",
    "pm": "项目经理",
    "supervisor": "监理",
    "service": "客服",
}


class Store(db.Model):
    """门店: a showroom with its own staff and customers."""

    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    city: Mapped[str] = mapped_column(String(50), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[list[Staff]] = relationship(back_populates="store")


class Staff(db.Model):
    """A company employee; roles are a comma-separated subset of ROLES."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    phone_enc: Mapped[str | None] = mapped_column(String(255))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    roles: Mapped[str] = mapped_column(String(100), default="")
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Console sessions carry it (app.services.customers.sign_in): signing out or changing the
    # password bumps it, and every cookie issued before is refused.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    store: Mapped[Store | None] = relationship(back_populates="staff")

    @property
    def role_set(self) -> set[str]:
        return {r for r in self.roles.split(",") if r}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set & set(roles))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


class ApiToken(db.Model):
    """A bearer token for /api/v1; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[Staff] = relationship()
