"""Open a callback: check who sent it, decrypt it, parse it; and shape the answer.

Who may post: a signature made with our token, over a timestamp no further than
CALLBACK_MAX_AGE seconds from now (a signed URL seen in a log cannot be replayed later).
In plain mode that signature covers the token, timestamp and nonce but not the body, so an
account configured with an EncodingAESKey (safe mode, whose msg_signature covers the
encrypted body) takes no plaintext, unless WECHAT_MP_ACCEPT_PLAIN allows it while the
account's mode is being switched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app

from app.core.wxprotocol import (
    CallbackError,
    check_signature,
    decrypt,
    encrypt_reply,
    parse_xml,
    render_text_reply,
)


@dataclass(frozen=True)
class Opened:
    """A verified callback: its fields, and whether it came encrypted (safe mode)."""

    msg: dict
    encrypted: bool


def _keys(name: str) -> list[str]:
    """EncodingAESKey(s): "current,previous" keeps in-flight messages readable after a change."""
    return [k.strip() for k in current_app.config.get(name, "").split(",") if k.strip()]


def _token(name: str) -> str:
    """The callback token; with none configured nobody can be told from anyone (a signature
    over an empty token is anybody's), so every callback is refused."""
    token = current_app.config.get(name, "")
    if not token:
        raise CallbackError(403, f"{name} is not set: callbacks are refused")
    return token


def _stamp(args: Mapping[str, str]) -> tuple[str, str]:
    return args.get("timestamp", ""), args.get("nonce", "")


_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def check_fresh(args: Mapping[str, str]) -> None:
    """403 unless the signed `timestamp` (Unix seconds) is within CALLBACK_MAX_AGE of now."""
    raw = args.get("timestamp", "")
    bound = current_app.config["CALLBACK_MAX_AGE"]
    if not _TIMESTAMP.fullmatch(raw) or abs(time.time() - int(raw)) > bound:
        raise CallbackError(403, f"timestamp missing or more than {bound} s from now")


def verify_mp_url(args: Mapping[str, str]) -> str:
    """GET /wechat/mp: the echostr, unchanged, once `signature` checks out (every mode)."""
    check_signature(args.get("signature"), _token("WECHAT_MP_TOKEN"), *_stamp(args))
    return args.get("echostr", "")


def open_mp(args: Mapping[str, str], body: bytes) -> Opened:
    """POST /wechat/mp in plain, compatible or safe mode."""
    config = current_app.config
    token, appid = _token("WECHAT_MP_TOKEN"), config["WECHAT_MP_APPID"]
    keys = _keys("WECHAT_MP_AES_KEY")
    if args.get("encrypt_type", "raw") == "raw":
        check_signature(args.get("signature"), token, *_stamp(args))
        if keys and not config["WECHAT_MP_ACCEPT_PLAIN"]:
            raise CallbackError(403, "plaintext refused: the account is in safe mode")
        check_fresh(args)
        return Opened(parse_xml(body), encrypted=False)
    if args.get("encrypt_type") != "aes":
        raise CallbackError(400, f"unknown encrypt_type {args.get('encrypt_type')!r}")
    if not keys:
        raise CallbackError(400, "safe mode message but WECHAT_MP_AES_KEY is not set")
    encrypt = _encrypted(body)
    # The MP doc is explicit: in safe mode check msg_signature (it covers Encrypt), not signature.
    check_signature(args.get("msg_signature"), token, *_stamp(args), encrypt)
    check_fresh(args)
    return Opened(parse_xml(decrypt(encrypt, keys, appid)), encrypted=True)


def _encrypted(body: bytes) -> str:
    encrypt = parse_xml(body).get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise CallbackError(400, "encrypted body without Encrypt")
    return encrypt


def verify_wecom_url(args: Mapping[str, str]) -> str:
    """GET /wechat/work: WeCom sends an encrypted echostr; answer its plaintext, nothing else."""
    echostr = args.get("echostr", "")
    check_signature(args.get("msg_signature"), _token("WECOM_TOKEN"), *_stamp(args), echostr)
    return decrypt(echostr, _keys("WECOM_AES_KEY"), current_app.config["WECOM_CORP_ID"], wecom=True)


def open_wecom(args: Mapping[str, str], body: bytes) -> Opened:
    """POST /wechat/work: always encrypted; the frame's receive id must be our corp id."""
    token = _token("WECOM_TOKEN")
    encrypt = _encrypted(body)
    check_signature(args.get("msg_signature"), token, *_stamp(args), encrypt)
    check_fresh(args)
    plain = decrypt(
        encrypt, _keys("WECOM_AES_KEY"), current_app.config["WECOM_CORP_ID"], wecom=True
    )
    return Opened(parse_xml(plain), encrypted=True)


def mp_answer(opened: Opened, reply_text: str | None) -> str:
    """`success`, or a passive text reply (encrypted when the message came encrypted)."""
    if not reply_text:
        return "success"
    xml = render_text_reply(
        opened.msg.get("FromUserName", ""), opened.msg.get("ToUserName", ""), reply_text
    )
    if not opened.encrypted:
        return xml
    config = current_app.config
    return encrypt_reply(
        xml, config["WECHAT_MP_TOKEN"], _keys("WECHAT_MP_AES_KEY")[0], config["WECHAT_MP_APPID"]
    )
