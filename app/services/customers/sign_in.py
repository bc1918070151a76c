"""Console sign-in: name or phone plus password, failures throttled, sessions tied to the
password.

Failures are counted per account and per client (its address) in a moving window (SIGNIN_FAILURES_PER_ACCOUNT, SIGNIN_FAILURES_PER_CLIENT,
default 5 and 20 in 15 minutes); past either, sign-in is refused before the password is
checked (RateLimited). The account is the login normalised the way sign-in resolves it
(`login_key`: NFKC, trimmed, case-folded; a phone number as its digits) and, when it finds a
staff member, that member's name: `Zhang`, ` zhang `, full-width letters, the phone number
as `+86 138 0000 1111` all count against one account. Passwords are hashed by werkzeug (scrypt, salted). A session carries
a stamp derived from the password hash and the member's session version, so signing out,
changing or resetting a password, or deactivating the account, ends the sessions issued
before (a copied cookie included).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.core import pii, rate_limit
from app.core.errors import Invalid, RateLimited, Unauthenticated
from app.core.extensions import db
from app.models import Staff
from app.services.customers import audit, phones

MIN_PASSWORD, MAX_PASSWORD = 8, 128
WRONG = "账号或密码错误"
# Checked when no account matches, so an unknown name costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("no such account, just the same amount of work")


def _limits() -> list[tuple[str, str]]:
    config = current_app.config
    return [
        ("account", config["SIGNIN_FAILURES_PER_ACCOUNT"]),
        ("client", config["SIGNIN_FAILURES_PER_CLIENT"]),
    ]


def _typed(login: str) -> str:
    """The login as sign-in reads it: compatibility forms folded (full-width letters and
    digits), spaces around it gone."""
    return unicodedata.normalize("NFKC", login or "").strip()


def login_key(login: str) -> str:
    """What the account's failures are counted under: a phone number as its digits, a name
    NFKC-normalised, trimmed and case-folded (hashed: no login in Redis)."""
    typed = _typed(login)
    try:
        account = "phone:" + pii.normalise_phone(typed)
    except pii.PhoneError:
        account = "name:" + typed.casefold()
    return hashlib.sha256(account.encode()).hexdigest()[:32]


def _keys(login: str, member: Staff | None, client: str) -> dict[str, str]:
    """The account is the member's name when the login finds one (their phone number, in any
    spelling, counts against the name), else the login itself."""
    account = login_key(member.name if member is not None else login)
    return {"account": account, "client": client or "unknown"}


def find_by_login(login: str) -> Staff | None:
    """The staff member whose name, or phone number, is `login`."""
    login = _typed(login)
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
    for name, limit in _limits():
        if rate_limit.over("signin:" + name, keys[name], limit):
            wait = rate_limit.retry_after("signin:" + name, keys[name], limit)
            minutes = max(1, (wait + 59) // 60)
            raise RateLimited(f"登录失败次数过多，请 {minutes} 分钟后再试")


def sign_in(login: str, password: str, client: str) -> Staff:
    """The active staff member `login` names, if `password` is theirs.

    Raises RateLimited (too many failures for this account or client), Unauthenticated
    (unknown, inactive or wrong password: one message for all three)."""
    member = find_by_login(login)
    keys = _keys(login, member, client)
    _refuse_if_throttled(keys)
    stored = member.password_hash if member is not None and member.password_hash else _DUMMY_HASH
    matches = check_password_hash(stored, password or "")
    if member is None or not member.active or not member.password_hash or not matches:
        for name, limit in _limits():
            rate_limit.count("signin:" + name, keys[name], limit)
        audit.record("staff.signin_failed", "staff", member.id if member else "-", actor="console")
        raise Unauthenticated(WRONG)
    rate_limit.clear("signin:account", keys["account"], _limits()[0][1])
    audit.record("staff.signin", "staff", member.id, actor=member)
    return member


def session_stamp(member: Staff) -> str:
    """Changes whenever the password or the session version does (signing out, a password
    change or reset): a session holding an old stamp is over, wherever its cookie went."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{member.id}:{member.session_version or 0}:{member.password_hash or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def from_session(staff_id: object, stamp: object) -> Staff | None:
    """The signed-in staff member of a session, or None (gone, inactive, password changed)."""
    if not isinstance(staff_id, int) or not isinstance(stamp, str):
        return None
    member = db.session.get(Staff, staff_id)
    if member is None or not member.active:
        return None
    return member if hmac.compare_digest(session_stamp(member), stamp) else None


def sign_out(member: Staff) -> None:
    """End the member's console sessions, this one and every copy of its cookie (server
    side: the session version moves on)."""
    member.session_version = (member.session_version or 0) + 1
    audit.record("staff.signout", "staff", member.id, actor=member)


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
