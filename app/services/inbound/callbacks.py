"""Open a callback: check who sent it, decrypt it, parse it; and shape the answer."""

from __future__ import annotations

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


def _stamp(args: Mapping[str, str]) -> tuple[str, str]:
    return args.get("timestamp", ""), args.get("nonce", "")


def verify_mp_url(args: Mapping[str, str]) -> str:
    """GET /wechat/mp: the echostr, unchanged, once `signature` checks out (every mode)."""
    check_signature(args.get("signature"), current_app.config["WECHAT_MP_TOKEN"], *_stamp(args))
    return args.get("echostr", "")


def open_mp(args: Mapping[str, str], body: bytes) -> Opened:
    """POST /wechat/mp in plain, compatible or safe mode."""
    token, appid = current_app.config["WECHAT_MP_TOKEN"], current_app.config["WECHAT_MP_APPID"]
    if args.get("encrypt_type", "raw") == "raw":
        check_signature(args.get("signature"), token, *_stamp(args))
        return Opened(parse_xml(body), encrypted=False)
    if args.get("encrypt_type") != "aes":
        raise CallbackError(400, f"unknown encrypt_type {args.get('encrypt_type')!r}")
    keys = _keys("WECHAT_MP_AES_KEY")
    if not keys:
        raise CallbackError(400, "safe mode message but WECHAT_MP_AES_KEY is not set")
    outer = parse_xml(body)
    encrypt = outer.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise CallbackError(400, "safe mode body without Encrypt")
    # The MP doc is explicit: in safe mode check msg_signature (it covers Encrypt), not signature.
    check_signature(args.get("msg_signature"), token, *_stamp(args), encrypt)
    return Opened(parse_xml(decrypt(encrypt, keys, appid)), encrypted=True)


def verify_wecom_url(args: Mapping[str, str]) -> str:
    """GET /wechat/work: WeCom sends an encrypted echostr; answer its plaintext, nothing else."""
    echostr = args.get("echostr", "")
    check_signature(
        args.get("msg_signature"), current_app.config["WECOM_TOKEN"], *_stamp(args), echostr
    )
    return decrypt(echostr, _keys("WECOM_AES_KEY"), current_app.config["WECOM_CORP_ID"], wecom=True)


def open_wecom(args: Mapping[str, str], body: bytes) -> Opened:
    """POST /wechat/work: always encrypted; the frame's receive id must be our corp id."""
    outer = parse_xml(body)
    encrypt = outer.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise CallbackError(400, "WeCom body without Encrypt")
    check_signature(
        args.get("msg_signature"), current_app.config["WECOM_TOKEN"], *_stamp(args), encrypt
    )
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
