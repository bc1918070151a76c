"""Mini-program sessions: an opaque token's hash, whose identity it speaks for, and until when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import db
from app.models.types import UTCDateTime, utcnow


class MiniSession(db.Model):
    """A session token handed out at login. Only the SHA-256 of the token is stored (the
    token itself is 256 random bits, seen once), so a leaked table opens no session. The
    session names the mini-program identity, not the customer: a merge moves identities,
    so the session follows the homeowner into the surviving record. Deleting the row ends
    the session (logout, unbind, a staff revocation)."""

    __tablename__ = "mini_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("customer_identities.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
