"""Homeowners' uploads from the mini program: recorded when uploaded, marked when cited in a
request (a rejection), and deleted, files and row, when nobody cited them before their
token expired (a photo picked, then the rejection abandoned: it must not stay forever)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.core.extensions import db
from app.core.storage import get_storage
from app.models import PhotoUpload
from app.models.types import utcnow
from app.services.projects import photos

# Kept a day past the token's life: a token can no longer be cited when its file goes.
KEEP = timedelta(seconds=photos.UPLOAD_TOKEN_TTL) + timedelta(days=1)


def register(customer_id: int, photo: dict) -> str:
    """Record a stored upload of this homeowner; the token to cite it with."""
    db.session.add(PhotoUpload(customer_id=customer_id, key=photo["key"], thumb=photo.get("thumb")))
    return photos.upload_token(customer_id, photo)


def cite(customer_id: int, tokens: list[str]) -> list[dict]:
    """The photos behind this homeowner's tokens (PhotoError if any is not), marked cited."""
    cited = photos.from_upload_tokens(customer_id, tokens)
    keys = [photo["key"] for photo in cited]
    if keys:
        db.session.execute(
            update(PhotoUpload)
            .where(PhotoUpload.key.in_(keys), PhotoUpload.cited_at.is_(None))
            .values(cited_at=utcnow())
        )
    return cited


def prune(now: datetime | None = None, batch: int = 500) -> int:
    """Delete up to `batch` uploads never cited and past KEEP (their files first); how many."""
    cutoff = (now or utcnow()) - KEEP
    rows = db.session.scalars(
        select(PhotoUpload)
        .where(PhotoUpload.cited_at.is_(None), PhotoUpload.created_at < cutoff)
        .order_by(PhotoUpload.id)
        .limit(batch)
    ).all()
    storage = get_storage()
    for row in rows:
        for key in filter(None, (row.key, row.thumb)):
            storage.delete(key)
        db.session.delete(row)
    return len(rows)
