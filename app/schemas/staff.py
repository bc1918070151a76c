"""Shapes of staff members as the staff API shows them."""

from __future__ import annotations

from app.schemas.base import Out


class StaffMe(Out):
    id: int
    name: str
    roles: list[str]
    store: str | None = None
    wecom_userid: str | None = None
    phone: str | None = None
