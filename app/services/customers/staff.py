"""Staff accounts and their API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from app.core.errors import Forbidden, Invalid, NotFound
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


PASSWORD_LENGTH = (8, 128)


def check_password(password: str) -> None:
    """StaffError unless the password is 8 to 128 characters (the console's rule too)."""
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high:
        raise StaffError(f"密码长度需为 {low} 到 {high} 个字符")


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
        check_password(password)
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


def can_manage(actor: Staff, member: Staff | None = None) -> bool:
    """Admin manages everyone; a manager the staff of their own store (never an admin)."""
    if actor.has_role("admin"):
        return True
    if not actor.has_role("manager") or actor.store_id is None:
        return False
    return member is None or (member.store_id == actor.store_id and not member.has_role("admin"))


def managed_staff(actor: Staff) -> list[Staff]:
    """The staff `actor` may manage, by name."""
    query = select(Staff).order_by(Staff.active.desc(), Staff.name)
    if not actor.has_role("admin"):
        query = query.where(Staff.store_id == actor.store_id)
    return list(db.session.scalars(query)) if can_manage(actor) else []


def _check_grant(actor: Staff, roles: list[str], store: str | None) -> None:
    """A manager gives no admin role and keeps people in their own store."""
    if actor.has_role("admin"):
        return
    if "admin" in roles:
        raise Invalid("只有管理员可以授予管理员角色", {"roles": "只有管理员可以授予管理员角色"})
    if store and (actor.store is None or store != actor.store.name):
        raise Invalid("店长只能管理本店员工", {"store": "店长只能管理本店员工"})


def create_by(actor: Staff, fields: dict) -> Staff:
    """A new staff member created in the console (fields: name, roles, store, phone,
    wecom_userid, password); Invalid with field messages on bad input."""
    if not can_manage(actor):
        raise Forbidden("没有权限管理员工")
    store = fields.get("store") or (None if actor.has_role("admin") else actor.store.name)
    _check_grant(actor, fields["roles"], store)
    if db.session.scalars(select(Staff).filter_by(name=fields["name"])).first():
        raise Invalid("员工已存在", {"name": "已有同名员工"})
    try:
        return create(
            fields["name"],
            fields["roles"],
            password=fields["password"],
            store=store,
            phone=fields.get("phone") or None,
            wecom_userid=fields.get("wecom_userid") or None,
            actor=actor.name,
        )
    except (StaffError, ValueError) as exc:
        raise Invalid(str(exc), {"phone": "手机号格式不正确"}) from exc


def update_member(actor: Staff, member: Staff, roles: list[str], store: str | None, active: bool):
    """Roles, store and whether the account is active; deactivating revokes API tokens."""
    if not can_manage(actor, member):
        raise NotFound("员工不存在")
    if member.id == actor.id and not active:
        raise Invalid("不能停用自己的账号", {"active": "不能停用自己的账号"})
    _check_grant(actor, roles, store)
    before = {"roles": member.roles, "store_id": member.store_id, "active": member.active}
    member.roles = ",".join(parse_roles(roles))
    member.store = get_or_create_store(store) if store else None
    if member.active and not active:
        revoke_tokens(member, actor=actor.name)
    member.active = active
    db.session.flush()
    after = {"roles": member.roles, "store_id": member.store_id, "active": member.active}
    audit.record("staff.update", "staff", member.id, actor=actor, before=before, after=after)
    return member


def reset_password(actor: Staff, member: Staff, password: str) -> None:
    """A new password set by an admin or the store's manager; ends the member's sessions."""
    if not can_manage(actor, member):
        raise NotFound("员工不存在")
    member.set_password(password)
    audit.record("staff.password_reset", "staff", member.id, actor=actor)


def revoke_tokens_by(actor: Staff, member: Staff) -> int:
    if not can_manage(actor, member):
        raise NotFound("员工不存在")
    return revoke_tokens(member, actor=actor.name)


def stores() -> list[Store]:
    return list(db.session.scalars(select(Store).order_by(Store.id)))


def managed_member(actor: Staff, member_id: int) -> Staff:
    """A staff member `actor` may manage; NotFound for anyone else."""
    member = db.session.get(Staff, member_id) if 0 < member_id < 2**31 else None
    if member is None or not can_manage(actor, member):
        raise NotFound("员工不存在")
    return member
