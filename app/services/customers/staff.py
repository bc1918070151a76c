"""Staff accounts and their API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from app.core.extensions import db
from app.models import ROLES, ApiToken, Staff, Store
from app.models.types import utcnow
from app.services.customers import audit, phones

TOKEN_PREFIX = "zx_"


class StaffError(ValueError):
    """Bad staff input: unknown role, duplicate name, unknown staff."""


def parse_roles(raw: str | list[str]) -> list[str]:
    roles = [r.strip() for r in (raw.split(",") if isinstance(raw, str) else raw) if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise StaffError(f"未知角色: {', '.join(unknown) or '(空)'}; 可选: {', '.join(ROLES)}")
    return roles


def get_or_create_store(name: str, city: str = "", region: str = "") -> Store:
    store = db.session.scalars(select(Store).filter_by(name=name)).first()
    if store is None:
        store = Store(name=name, city=city, region=region)
        db.session.add(store)
        db.session.flush()
    return store


def by_name(name: str) -> Staff:
    staff = db.session.scalars(select(Staff).filter_by(name=name)).first()
    if staff is None:
        raise StaffError(f"没有名为 {name!r} 的员工")
    return staff


def create(
    name: str,
    roles: str | list[str],
    *,
    password: str | None = None,
    store: str | None = None,
    phone: str | None = None,
    wecom_userid: str | None = None,
    actor: str = "cli",
) -> Staff:
    """A new staff member; names are unique so the CLI and seed data can refer to them."""
    if db.session.scalars(select(Staff).filter_by(name=name)).first():
        raise StaffError(f"员工 {name!r} 已存在")
    member = Staff(name=name, roles=",".join(parse_roles(roles)), wecom_userid=wecom_userid or None)
    if store:
        member.store = get_or_create_store(store)
    if phone:
        _, member.phone_enc, member.phone_hash = phones.seal(phone)
    if password:
        member.set_password(password)
    db.session.add(member)
    db.session.flush()
    audit.record(
        "staff.create", "staff", member.id, actor=actor, after={"name": name, "roles": member.roles}
    )
    return member


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(staff: Staff, actor: str = "cli") -> str:
    """A new bearer token; only its hash is kept, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(staff_id=staff.id, token_hash=_digest(token), prefix=token[:10]))
    audit.record("staff.token_issue", "staff", staff.id, actor=actor, after={"prefix": token[:10]})
    return token


def revoke_tokens(staff: Staff, actor: str = "cli") -> int:
    """Revoke every live token of a staff member; the count revoked."""
    live = db.session.scalars(select(ApiToken).filter_by(staff_id=staff.id, revoked_at=None)).all()
    for row in live:
        row.revoked_at = utcnow()
    audit.record("staff.token_revoke", "staff", staff.id, actor=actor, after={"revoked": len(live)})
    return len(live)


def authenticate(token: str) -> Staff | None:
    """The active staff member a live token belongs to, or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = db.session.scalars(select(ApiToken).filter_by(token_hash=_digest(token))).first()
    if row is None or row.revoked_at is not None or not row.staff.active:
        return None
    now = utcnow()
    # Note use at most every few minutes: a write on every API call would be waste.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 300:
        row.last_used_at = now
    return row.staff
