"""Mini-program login: code2Session, then our own signed, expiring session token.

WeChat's session_key is not kept (we use the getPhoneNumber code API, which does not need
it), so it never leaves this function. The token carries only the openid; each request
looks the openid up, so a homeowner merged into another customer follows the merge.
"""

from __future__ import annotations

import logging

import requests
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, select

from app.core.errors import Invalid, RateLimited, Unauthenticated, UpstreamUnavailable
from app.core.extensions import db
from app.core.wechat import WeChatClientException, WeChatConfigError, mini_client
from app.models import Customer, CustomerIdentity
from app.services.customers import customers
from app.services.customers import timeline as timeline_service

log = logging.getLogger(__name__)
SALT = "mini-session"
EXPIRED = "登录已过期，请重新登录"
WECHAT_DOWN = "微信服务暂时不可用，请稍后再试"


def _serializer() -> URLSafeTimedSerializer:
    """The app's session-token serializer, built once: every mini request checks a token."""
    serializer = current_app.extensions.get("mini_session_serializer")
    if serializer is None:
        serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)
        current_app.extensions["mini_session_serializer"] = serializer
    return serializer


def wechat_call(func, *args):
    """Call WeChat, turning its failures into the mini program's error answers."""
    try:
        return func(*args)
    except WeChatClientException as exc:
        log.info("wechat error", extra={"errcode": exc.errcode})
        if exc.errcode in (40029, 40163):
            message = "登录凭证无效或已使用，请重新进入小程序"
            raise Invalid(message, code="invalid_code") from exc
        if exc.errcode == 45011:
            raise RateLimited("操作太频繁，请稍后再试") from exc
        raise UpstreamUnavailable(WECHAT_DOWN, code="wechat_error") from exc
    except (requests.RequestException, WeChatConfigError) as exc:
        log.warning("wechat unreachable: %r", exc)
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


def login(code: str) -> tuple[str, Customer, bool]:
    """(session token, customer, first login?) for a wx.login code."""
    session = wechat_call(mini_client().wxa.code_to_session, code)
    openid = session.get("openid")
    if not openid:
        raise UpstreamUnavailable(WECHAT_DOWN, code="wechat_error")
    customer, created = resolve(openid, session.get("unionid"))
    if created:
        timeline_service.record(
            customer, "mini_registered", channel="mini", direction="inbound", actor_type="customer"
        )
    return _serializer().dumps({"o": openid}), customer, created


# Built once: every mini request runs one of these (see progress.FEED_STATEMENTS).
_BY_OPENID = (
    CustomerIdentity.kind == "mini_openid",
    CustomerIdentity.app_id == bindparam("app_id"),
    CustomerIdentity.value == bindparam("openid"),
)
_HOMEOWNER = (
    select(Customer.id, Customer.merged_into_id)
    .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
    .where(*_BY_OPENID)
)
# The homeowner's customer id as a subquery, for the pages homeowners open most to fold the
# lookup into their own query. A merge moves identities, so this names the live customer.
HOMEOWNER = select(CustomerIdentity.customer_id).where(*_BY_OPENID).scalar_subquery()


def openid_of(token: str) -> str:
    """The openid a session token was issued to; 401 when expired or forged (no query)."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["MINI_SESSION_TTL"])
    except BadSignature as exc:  # SignatureExpired is a BadSignature too
        raise Unauthenticated(EXPIRED) from exc
    openid = data.get("o") if isinstance(data, dict) else None
    if not isinstance(openid, str) or not openid:
        raise Unauthenticated(EXPIRED)
    return openid


def homeowner_params(openid: str) -> dict:
    """The bind parameters of HOMEOWNER for this openid."""
    return {"app_id": app_id(), "openid": openid}


def homeowner_id(openid: str) -> int:
    """The id of the customer behind a mini-program openid; 401 when unknown."""
    row = db.session.connection().execute(_HOMEOWNER, homeowner_params(openid)).first()
    if row is None:
        raise Unauthenticated(EXPIRED)
    if row.merged_into_id is None:
        return row.id
    return customers.resolve(db.session.get(Customer, row.id)).id


def authenticate(token: str) -> int:
    """The id of the homeowner behind a session token; 401 when expired, forged or unknown."""
    return homeowner_id(openid_of(token))


def phone_from_code(phone_code: str) -> str:
    """The phone number behind a getPhoneNumber code (wxa/business/getuserphonenumber)."""
    client = mini_client()
    result = wechat_call(
        lambda: client.post(
            "wxa/business/getuserphonenumber",
            data={"code": phone_code},
            api_base_url=client.wxa.API_BASE_URL,
        )
    )
    info = result.get("phone_info") or {}
    phone = info.get("purePhoneNumber") or info.get("phoneNumber")
    if not phone:
        raise UpstreamUnavailable(WECHAT_DOWN, code="wechat_error")
    return phone
