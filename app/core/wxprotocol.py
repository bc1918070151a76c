"""The WeChat / WeCom callback protocol: signatures, AES frames and XML, with no app state.

Signature checks are done here with hashlib (constant-time compare); AES frames go through
wechatpy's PrpCrypto, whose decrypt we wrap because garbage input makes it raise anything
from binascii.Error to struct.error. Every XML parse goes through defusedxml: DOCTYPEs,
entities and external references are refused, never expanded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from functools import lru_cache
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from wechatpy.crypto import PrpCrypto
from wechatpy.enterprise.crypto import PrpCrypto as WeComPrpCrypto


class CallbackError(ValueError):
    """A callback we refuse. `status` is the HTTP answer; `reason` goes to the log."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def sign(*parts: str) -> str:
    """sha1 of the lexicographically sorted parts, joined: WeChat's one signature scheme."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(expected: str | None, *parts: str) -> None:
    if not expected or not hmac.compare_digest(sign(*parts), expected.lower()):
        raise CallbackError(403, "bad signature")


def aes_key(encoding_aes_key: str) -> bytes:
    import base64

    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise ValueError("EncodingAESKey must be 43 characters (32 bytes once decoded)")
    return key


def decrypt(encrypt: str, keys: list[str], receive_id: str, *, wecom: bool = False) -> str:
    """Decrypt an `Encrypt` value, trying the current key then the previous one.

    WeChat's FAQ recommends keeping the previous EncodingAESKey after a change, because
    messages in flight were encrypted with it.
    """
    wrong_id = False
    for key in keys:
        try:
            return _crypto(key, wecom).decrypt(encrypt, receive_id)
        except Exception as exc:  # noqa: BLE001 - wechatpy raises many kinds on garbage
            wrong_id = wrong_id or type(exc).__name__.startswith("Invalid")
    raise CallbackError(400, "receive id is not ours" if wrong_id else "does not decrypt")


@lru_cache(maxsize=16)
def _crypto(key: str, wecom: bool) -> PrpCrypto | WeComPrpCrypto:
    """One cipher object per key: building it (key schedule, checks) on every callback cost
    more than decrypting the message. It keeps no per-message state, so threads share it."""
    return (WeComPrpCrypto if wecom else PrpCrypto)(aes_key(key))


def encrypt_reply(xml: str, token: str, key: str, receive_id: str, *, wecom: bool = False) -> str:
    """The encrypted reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce)."""
    encrypted = _crypto(key, wecom).encrypt(xml, receive_id).decode()
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    signature = sign(token, timestamp, nonce, encrypted)
    return (
        f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )


def parse_xml(body: bytes | str) -> dict:
    """A callback body as a dict; repeated children (List, Item) become lists."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError, TypeError) as exc:
        raise CallbackError(400, f"malformed or hostile XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise CallbackError(400, "root element is not <xml>")
    value = _element(root)
    return value if isinstance(value, dict) else {}


def _element(node: Element) -> dict | str:
    children = list(node)
    if not children:
        return node.text or ""
    result: dict = {}
    for child in children:
        value = _element(child)
        if child.tag in result:
            existing = result[child.tag]
            result[child.tag] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            result[child.tag] = value
    return result


def as_list(value) -> list:
    """WeChat sends one <List> as an object and several as a list; always give a list."""
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def render_text_reply(to_user: str, from_user: str, content: str) -> str:
    """A passive text reply (被动回复). CDATA cannot contain ']]>', so split it if present."""
    safe = content.replace("]]>", "]]]]><![CDATA[>")
    return (
        f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>"
        f"<FromUserName><![CDATA[{from_user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{safe}]]></Content></xml>"
    )
