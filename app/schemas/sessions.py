"""Shapes of the staff action on a homeowner's mini-program sessions."""

from __future__ import annotations

from app.schemas.base import Out


class SessionsEnded(Out):
    ended: int
