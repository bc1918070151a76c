"""Who is scanning, inside WeChat: the official account's web OAuth with scope snsapi_base.

snsapi_base asks the user nothing: WeChat redirects straight back with a code, which we
exchange for the openid (网页授权, "静默授权"). The scan page sends WeChat's browser there
once; the openid then rides in a signed cookie (COOKIE, OPENID_TTL) so later scans need
no round trip. The state is signed and expires, so a link carrying someone else's code is
not taken as theirs. A failed exchange (WeChat down, a used code, a snapshot-page user
whose openid is not real) shows the page without a customer; it never loops back to WeChat.
Only a customer we already know by this openid is attached to a scan; a stranger's scan
creates no customer.
"""

from __future__ import annotations

import logging

import requests
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wechatpy.exceptions import WeChatOAuthException

from app.core.wechat import WeChatConfigError, mp_oauth
from app.models import Customer
from app.services.customers import customers
from app.services.trace import codes

log = logging.getLogger(__name__)
COOKIE = "trace_wx"
OPENID_TTL = 30 * 86400  # seconds the cookie remembers the openid
STATE_TTL = 600  # seconds between leaving for WeChat and coming back


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def enabled() -> bool:
    config = current_app.config
    return bool(config.get("WECHAT_MP_APPID") and config.get("WECHAT_MP_SECRET"))


def authorize_url(code: str) -> str:
    """WeChat's authorize page, coming back to this code's page with ?code=…&state=…."""
    state = _serializer("trace-oauth-state").dumps(code)
    return mp_oauth(codes.url(code), state).authorize_url


def openid_from_code(oauth_code: str, state: str, code: str) -> str | None:
    """The openid behind WeChat's code, or None (bad state, failed exchange, snapshot user)."""
    try:
        signed_for = _serializer("trace-oauth-state").loads(state, max_age=STATE_TTL)
    except BadSignature:
        return None
    if signed_for != code or not oauth_code or len(oauth_code) > 128:
        return None
    try:
        result = mp_oauth(codes.url(code)).fetch_access_token(oauth_code)
    except (WeChatOAuthException, requests.RequestException, WeChatConfigError, KeyError) as exc:
        log.info("wechat oauth exchange failed: %s", type(exc).__name__)
        return None
    if result.get("is_snapshotuser") == 1:
        return None
    return result.get("openid") or None


def cookie_value(openid: str) -> str:
    return _serializer("trace-openid").dumps(openid)


def openid_from_cookie(value: str | None) -> str | None:
    if not value:
        return None
    try:
        openid = _serializer("trace-openid").loads(value, max_age=OPENID_TTL)
    except BadSignature:
        return None
    return openid if isinstance(openid, str) and openid else None


def customer_of(openid: str | None) -> Customer | None:
    """The known customer behind an official-account openid (merges followed), or None."""
    if not openid:
        return None
    return customers.find_by_identity("mp_openid", openid, current_app.config["WECHAT_MP_APPID"])
