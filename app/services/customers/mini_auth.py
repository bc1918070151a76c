"""Mini-program login: code2Session, then our own opaque, revocable session token.

WeChat's session_key is not kept (we use the getPhoneNumber code API, which does not need
it), so it never leaves this function. The session token is 256 random bits that say
nothing; the database keeps its SHA-256 (mini_sessions), the mini-program identity it
speaks for and its expiry (MINI_SESSION_TTL after login). Each request looks the hash up:
an expired, logged-out or revoked session (logout, unbind, a staff revocation) is a 401
at once, and a homeowner merged into another customer follows the merge (the session
names the identity, which a merge moves).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import bindparam, delete, select

from app.core.errors import Invalid, RateLimited, Unauthenticated, UpstreamUnavailable
from app.core.extensions import db
from app.core.wechat import WeChatClientException, WeChatConfigError, mini_client
from app.models import Customer, CustomerIdentity, MiniSession, Staff
from app.models.types import UTCDateTime, utcnow
from app.services.customers import audit, customers
from app.services.customers import timeline as timeline_service

log = logging.getLogger(__name__)
TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 100  # ours are 43; anything much longer is not one of ours
EXPIRED = "登录已过期，请重新登录"
WECHAT_DOWN = "微信服务暂时不可用，请稍后再试"


def wechat_call(func, *args):
    """Call WeChat, turning its failures into the mini program's error answers."""
    try:
        return func(*args)
    except WeChatClientException as exc:
        log.info("wechat error", extra={"errcode": exc.errcode})
        if exc.errcode in (40029, 40163):
            raise Invalid("登录凭证无效或已使用，请重新进入小程序", code="invalid_code") from exc
        if exc.errcode == 45011:
            raise RateLimited("操作太频繁，请稍后再试") from exc
        raise UpstreamUnavailable(WECHAT_DOWN, code="wechat_error") from exc
    except (requests.RequestException, WeChatConfigError) as exc:
        log.warning("wechat unreachable", extra={"error": type(exc).__name__})
        raise UpstreamUnavailable(WECHAT_DOWN, code="wechat_error") from exc


def app_id() -> str:
    return current_app.config["WECHAT_MINI_APPID"]


def resolve(openid: str, unionid: str | None) -> tuple[Customer, bool]:
    """The customer of this mini-program user; a unionid links to a known customer."""
    known = customers.find_by_identity("mini_openid", openid, app_id())
    if known is None and unionid:
        known = customers.find_by_identity("unionid", unionid)
        if known is not None:
            customers.add_identity(known, "mini_openid", openid, app_id())
    created = False
    if known is None:
        known, created = customers.find_or_create_by_identity(
            "mini_openid", openid, app_id(), source_channel="mini"
        )
    if unionid and customers.find_identity("unionid", unionid) is None:
        customers.add_identity(known, "unionid", unionid)
    return known, created


def session_key(token: str) -> str:
    """What is stored of a session token (its SHA-256); 401 for what cannot be one of ours."""
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise Unauthenticated(EXPIRED)
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(identity: CustomerIdentity) -> str:
    """A new session token for this mini-program identity (seen only here); the identity's
    expired sessions are cleared on the way."""
    now = utcnow()
    db.session.execute(
        delete(MiniSession).where(
            MiniSession.identity_id == identity.id, MiniSession.expires_at <= now
        )
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    ttl = timedelta(seconds=current_app.config["MINI_SESSION_TTL"])
    db.session.add(
        MiniSession(
            token_hash=session_key(token),
            identity_id=identity.id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def login(code: str) -> tuple[str, Customer, bool]:
    """(session token, customer, first login?) for a wx.login code."""
    # mini_client() itself raises when the app id is unset (make run): inside wechat_call.
    session = wechat_call(lambda: mini_client().wxa.code_to_session(code))
    openid = session.get("openid")
    if not openid:
        raise UpstreamUnavailable(WECHAT_DOWN, code="wechat_error")
    customer, created = resolve(openid, session.get("unionid"))
    if created:
        timeline_service.record(
            customer, "mini_registered", channel="mini", direction="inbound", actor_type="customer"
        )
    identity = customers.find_identity("mini_openid", openid, app_id())
    return open_session(identity), customer, created


# Built once: every mini request runs one of these (see progress.FEED_STATEMENTS).
_LIVE_SESSION = (
    MiniSession.token_hash == bindparam("token_hash"),
    MiniSession.expires_at > bindparam("now", type_=UTCDateTime()),
)
_HOMEOWNER = (
    select(Customer.id, Customer.merged_into_id, CustomerIdentity.id.label("identity_id"))
    .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
    .join(MiniSession, MiniSession.identity_id == CustomerIdentity.id)
    .where(*_LIVE_SESSION)
)
# The homeowner's customer id as a subquery, for the pages homeowners open most to fold the
# lookup into their own query. A merge moves identities, so this names the live customer.
HOMEOWNER = (
    select(CustomerIdentity.customer_id)
    .join(MiniSession, MiniSession.identity_id == CustomerIdentity.id)
    .where(*_LIVE_SESSION)
    .scalar_subquery()
)


def homeowner_params(key: str) -> dict:
    """The bind parameters of HOMEOWNER for a session key (session_key of the token)."""
    return {"token_hash": key, "now": utcnow()}


def _session_row(key: str):
    row = db.session.connection().execute(_HOMEOWNER, homeowner_params(key)).first()
    if row is None:
        raise Unauthenticated(EXPIRED)
    return row


def homeowner_id(key: str) -> int:
    """The id of the customer behind a live session; 401 when expired, revoked or unknown."""
    row = _session_row(key)
    if row.merged_into_id is None:
        return row.id
    return customers.resolve(db.session.get(Customer, row.id)).id


def session_identity(key: str) -> CustomerIdentity:
    """The mini-program identity a live session speaks for; 401 otherwise."""
    return db.session.get(CustomerIdentity, _session_row(key).identity_id)


def authenticate(token: str) -> int:
    """The id of the homeowner behind a session token; 401 when expired, forged or revoked."""
    return homeowner_id(session_key(token))


def logout(key: str) -> None:
    """End this session (the token stops working at once)."""
    db.session.execute(delete(MiniSession).where(MiniSession.token_hash == key))


def end_sessions(identity_ids: list[int]) -> int:
    """End every session of these mini-program identities; how many there were."""
    if not identity_ids:
        return 0
    result = db.session.execute(
        delete(MiniSession).where(MiniSession.identity_id.in_(identity_ids))
    )
    return result.rowcount


def revoke_sessions(customer: Customer, actor: Staff) -> int:
    """A staff action: end every mini-program session of this customer (a lost phone, a
    wrong binding); audited. How many were ended."""
    identities = db.session.scalars(
        select(CustomerIdentity.id).filter_by(customer_id=customer.id, kind="mini_openid")
    ).all()
    ended = end_sessions(list(identities))
    audit.record(
        "mini_session.revoke", "customer", customer.id, actor=actor, after={"ended": ended}
    )
    return ended


def phone_from_code(phone_code: str) -> str:
    """The phone number behind a getPhoneNumber code (wxa/business/getuserphonenumber)."""

    def ask():
        client = mini_client()
        return client.post(
            "wxa/business/getuserphonenumber",
            data={"code": phone_code},
            api_base_url=client.wxa.API_BASE_URL,
        )

    result = wechat_call(ask)
    info = result.get("phone_info") or {}
    phone = info.get("purePhoneNumber") or info.get("phoneNumber")
    if not phone:
        raise UpstreamUnavailable(WECHAT_DOWN, code="wechat_error")
    return phone
