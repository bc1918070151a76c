"""Homeowners' uploads from the mini program: recorded when uploaded, marked when cited in a
request (a rejection), and deleted, files and row, when nobody cited them before their
token expired (a photo picked, then the rejection abandoned: it must not stay forever)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select, update

from app.core import rate_limit
from app.core.errors import Forbidden, RateLimited
from app.core.extensions import db
from app.core.storage import get_storage
from app.models import PhotoUpload
from app.models.types import utcnow
from app.services.projects import photos, projects

# Kept a day past the token's life: a token can no longer be cited when its file goes.
KEEP = timedelta(seconds=photos.UPLOAD_TOKEN_TTL) + timedelta(days=1)


def check_may_upload(customer_id: int) -> None:
    """Before a file is read: only a homeowner who follows a project may upload (an upload
    exists to be cited in that project's rejection), and at most MINI_UPLOAD_LIMIT of them
    (decoding a photo costs a worker real CPU and memory: a stranger must not be able to
    keep one busy). Forbidden / RateLimited otherwise."""
    follows = db.session.scalar(select(exists().where(projects.customer_scope(customer_id))))
    if not follows:
        raise Forbidden("请先绑定项目后再上传照片", code="not_bound")
    limit = current_app.config["MINI_UPLOAD_LIMIT"]
    if not rate_limit.allow("mini-upload", f"customer:{customer_id}", limit):
        raise RateLimited("上传太频繁，请稍后再试")


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
