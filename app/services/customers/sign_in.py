"""Console sign-in: name or phone plus password, failures throttled, sessions tied to the
password.

Failures are counted per account (the login as typed, normalised) and per client (its
address) in a moving window (SIGNIN_FAILURES_PER_ACCOUNT, SIGNIN_FAILURES_PER_CLIENT,
default 5 and 20 in 15 minutes); past either, sign-in is refused before the password is
checked (RateLimited). Passwords are hashed by werkzeug (scrypt, salted). A session carries
a stamp derived from the password hash, so changing or resetting a password, or
deactivating the account, ends every other session.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.core import ratelimit
from app.core.errors import Invalid, RateLimited, Unauthenticated
from app.core.extensions import db
from app.models import Staff
from app.services.customers import audit, phones

MIN_PASSWORD, MAX_PASSWORD = 8, 128
WRONG = "账号或密码错误"
# Checked when no account matches, so an unknown name costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("no such account, just the same amount of work")


def _limits() -> list[tuple[str, object]]:
    config = current_app.config
    return [
        ("account", ratelimit.window(config["SIGNIN_FAILURES_PER_ACCOUNT"])),
        ("client", ratelimit.window(config["SIGNIN_FAILURES_PER_CLIENT"])),
    ]


def _keys(login: str, client: str) -> dict[str, str]:
    account = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]
    return {"account": account, "client": client or "unknown"}


def find_by_login(login: str) -> Staff | None:
    """The staff member whose name, or phone number, is `login`."""
    login = login.strip()
    if not login:
        return None
    found = db.session.scalars(select(Staff).where(Staff.name == login)).first()
    if found is not None:
        return found
    try:
        hashes = phones.lookup_hashes(login)
    except ValueError:
        return None
    return db.session.scalars(select(Staff).where(Staff.phone_hash.in_(hashes))).first()


def _refuse_if_throttled(keys: dict[str, str]) -> None:
    for name, item in _limits():
        if ratelimit.exceeded(item, "signin:" + name, keys[name]):
            wait = ratelimit.retry_after(item, "signin:" + name, keys[name])
            minutes = max(1, (wait + 59) // 60)
            raise RateLimited(f"登录失败次数过多，请 {minutes} 分钟后再试")


def sign_in(login: str, password: str, client: str) -> Staff:
    """The active staff member `login` names, if `password` is theirs.

    Raises RateLimited (too many failures for this account or client), Unauthenticated
    (unknown, inactive or wrong password: one message for all three)."""
    keys = _keys(login, client)
    _refuse_if_throttled(keys)
    member = find_by_login(login)
    stored = member.password_hash if member is not None and member.password_hash else _DUMMY_HASH
    matches = check_password_hash(stored, password or "")
    if member is None or not member.active or not member.password_hash or not matches:
        for name, item in _limits():
            ratelimit.count_failure(item, "signin:" + name, keys[name])
        audit.record("staff.signin_failed", "staff", member.id if member else "-", actor="console")
        raise Unauthenticated(WRONG)
    ratelimit.reset(_limits()[0][1], "signin:account", keys["account"])
    audit.record("staff.signin", "staff", member.id, actor=member)
    return member


def session_stamp(member: Staff) -> str:
    """Changes whenever the password does: a session holding an old stamp is over."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{member.id}:{member.password_hash or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def from_session(staff_id: object, stamp: object) -> Staff | None:
    """The signed-in staff member of a session, or None (gone, inactive, password changed)."""
    if not isinstance(staff_id, int) or not isinstance(stamp, str):
        return None
    member = db.session.get(Staff, staff_id)
    if member is None or not member.active:
        return None
    return member if hmac.compare_digest(session_stamp(member), stamp) else None


def check_new_password(member: Staff, new: str, confirm: str, field: str = "new") -> None:
    """Invalid({field or "confirm": message}) unless `new` is acceptable."""
    if not MIN_PASSWORD <= len(new or "") <= MAX_PASSWORD:
        raise Invalid("密码不符合要求", {field: f"密码长度为 {MIN_PASSWORD} 到 {MAX_PASSWORD} 位"})
    if new.strip() != new or new == member.name:
        raise Invalid("密码不符合要求", {field: "密码首尾不能有空格，也不能与姓名相同"})
    if new != confirm:
        raise Invalid("两次输入的密码不一致", {"confirm": "两次输入的密码不一致"})


def change_password(member: Staff, current: str, new: str, confirm: str) -> None:
    """The staff member's own change: the current password first (Invalid otherwise)."""
    if not member.check_password(current or ""):
        raise Invalid("当前密码不正确", {"current": "当前密码不正确"})
    check_new_password(member, new, confirm)
    member.set_password(new)
    audit.record("staff.password_change", "staff", member.id, actor=member)
