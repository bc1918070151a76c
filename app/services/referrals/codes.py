"""Referral codes: one per customer, shared as r_<code> in a mini-program code
(wxacode.getUnlimited), an official-account permanent QR (qrcode/create scene_str) and a
WeCom contact way's `state`; or typed into the mini program."""

from __future__ import annotations

import base64
import logging
import secrets

import requests
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from app.core import wechat
from app.core.database import insert_once
from app.core.extensions import db
from app.models import Customer, ReferralCode

log = logging.getLogger(__name__)
SCENE_PREFIX = "r_"
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed
LENGTH = 8
SHARE_PAGE = "pages/referral/landing"
SHOW_QR = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="


def normalise(raw: str) -> str:
    """A typed or scanned code as stored: without r_, upper case, no spaces."""
    code = (raw or "").strip()
    if code.lower().startswith(SCENE_PREFIX):
        code = code[len(SCENE_PREFIX) :]
    return code.upper()


def scene_code(scene: str) -> str | None:
    """The code of a scene / state r_<code>, else None."""
    if not isinstance(scene, str) or not scene.startswith(SCENE_PREFIX):
        return None
    code = normalise(scene)
    return code if 0 < len(code) <= 16 else None


def find(code: str) -> ReferralCode | None:
    code = normalise(code)
    if not code or len(code) > 16:
        return None
    return db.session.scalars(select(ReferralCode).filter_by(code=code)).first()


def of(customer: Customer) -> ReferralCode:
    """The customer's code, created on first use (a random code; a collision retries)."""
    row = db.session.scalars(select(ReferralCode).filter_by(customer_id=customer.id)).first()
    while row is None:
        fresh = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if insert_once(ReferralCode(customer_id=customer.id, code=fresh)):
            return db.session.scalars(select(ReferralCode).filter_by(code=fresh)).one()
        row = db.session.scalars(select(ReferralCode).filter_by(customer_id=customer.id)).first()
    return row


def scene(row: ReferralCode) -> str:
    return SCENE_PREFIX + row.code


def mini_image(row: ReferralCode) -> str | None:
    """The mini-program code (PNG, a data URL) for scene r_<code>; None when WeChat fails
    (the code itself still works)."""
    client = wechat.mini_client()
    try:
        answer = client.wxa.get_wxa_code_unlimited(scene(row), page=SHARE_PAGE)
    except (WeChatClientException, requests.RequestException) as exc:
        log.info("wxacode failed", extra={"error": type(exc).__name__})
        return None
    content = getattr(answer, "content", None)
    if not content:
        return None
    return "data:image/png;base64," + base64.b64encode(content).decode()


def mp_qr_url(row: ReferralCode) -> str | None:
    """The official account's permanent QR (scene_str r_<code>), created once; None when
    WeChat fails."""
    if row.mp_ticket is None:
        action = {"scene": {"scene_str": scene(row)}}
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": action}
        try:
            answer = wechat.mp_client().qrcode.create(body)
        except (WeChatClientException, requests.RequestException) as exc:
            log.info("qrcode/create failed", extra={"error": type(exc).__name__})
            return None
        row.mp_ticket = answer.get("ticket")
        db.session.flush()
    return SHOW_QR + requests.utils.quote(row.mp_ticket, safe="") if row.mp_ticket else None
