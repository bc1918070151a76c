"""The WeChat / WeCom callback protocol: signatures, AES frames and XML, with no app state.

Signature checks are done here with hashlib (constant-time compare); AES frames go through
wechatpy's PrpCrypto, whose decrypt we wrap because garbage input makes it raise anything
from binascii.Error to struct.error. Every XML parse goes through defusedxml: DOCTYPEs,
entities and external references are refused, never expanded.
"""

from __future__ import annotations

import hashlib
import hmac
import re
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


# XML 1.0 cannot carry the C0 controls other than TAB, LF and CR, nor U+FFFE/U+FFFF, yet
# WeChat passes them through from a customer's keyboard (e.g. U+001D inside a text). They
# are dropped before parsing (in UTF-8 none of these bytes occurs inside another character)
# so the message is stored without them instead of being refused and lost; a character
# reference to one (&#29;) is dropped the same way. Every other character is kept.
_ILLEGAL_BYTES = bytes(c for c in range(0x20) if c not in (0x9, 0xA, 0xD))  # C0 controls
_NONCHARACTERS = ("\ufffe".encode(), "\uffff".encode())  # as UTF-8
_ILLEGAL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A character reference; only those outside CDATA are references (inside a CDATA section
# "&#29;" is literal text), so the body is cut into CDATA and other parts first, by find():
# linear time, whatever the body (a regex alternative matching whole CDATA sections took
# quadratic time on many unclosed "<![CDATA[" — a denial of service before any signature).
_CHAR_REF = re.compile(rb"&#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});")
_CDATA_OPEN, _CDATA_CLOSE = b"<![CDATA[", b"]]>"
#: The deepest structure WeChat documents is 5 levels under <xml> (MASSSENDJOBFINISH's
#: CopyrightCheckResult/ResultList/item/…); deeper is refused before anything is built on it.
MAX_DEPTH = 16
#: Fields WeChat and WeCom document as text, wherever they appear: a tag inside one is not
#: WeChat's (the rest of the app reads them as strings).
TEXT_FIELDS = frozenset(
    # every message and event; 接收普通消息
    ("ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "MsgDataId", "Idx")
    + ("Content", "PicUrl", "MediaId", "Format", "Recognition", "ThumbMediaId", "Title")
    + ("Location_X", "Location_Y", "Scale", "Label", "Description", "Url")
    # 接收事件推送, 自定义菜单事件推送, 模板消息 and 群发 reports
    + ("Event", "EventKey", "Ticket", "Latitude", "Longitude", "Precision", "MenuId")
    + ("ScanType", "ScanResult", "PicMd5Sum", "Poiname", "MsgID", "Status", "ExpiredTime")
    + ("TotalCount", "FilterCount", "SentCount", "ErrorCount", "FailTime", "FailReason")
    # 订阅通知事件推送
    + ("TemplateId", "SubscribeStatusString", "PopupScene", "ErrorCode", "ErrorStatus")
    # WeCom: the app callback and 客户联系 changes
    + ("AgentID", "Encrypt", "ChangeType", "UserID", "ExternalUserID", "State", "WelcomeCode")
    + ("Source", "ChatId", "UpdateDetail", "JoinScene", "QuitScene", "MemChangeCnt")
    + ("LastMemVer", "CurMemVer", "Id", "TagType")
)
#: Longest accepted value of the fields that name someone or something (they end up in
#: keys and columns): a little over the longest WeChat documents (openid 28, WeCom userid
#: and ChatId 64, MsgId a 64-bit number, EventKey a menu URL of 1,024 bytes). Free text
#: (Content, Label …) is bounded by the request size (MAX_BODY_BYTES) alone.
FIELD_LIMITS = {
    "ToUserName": 64,
    "FromUserName": 64,
    "CreateTime": 20,
    "MsgType": 32,
    "MsgId": 32,
    "MsgID": 32,
    "Event": 64,
    "EventKey": 1024,
    "ChangeType": 64,
    "UserID": 64,
    "ExternalUserID": 128,
    "State": 64,
    "ChatId": 128,
    "AgentID": 32,
}


#: Fields that name someone (an openid, a WeCom userid, an external userid): WeChat's never
#: hold or start with white space; a blank one would be an empty identity downstream.
IDENTIFIERS = frozenset(("ToUserName", "FromUserName", "UserID", "ExternalUserID"))


def parse_xml(body: bytes | str) -> dict:
    """A callback body as a dict; repeated children (List, Item) become lists.

    Refused (CallbackError 400): malformed XML, DOCTYPEs and entities, a root other than
    <xml>, nesting deeper than MAX_DEPTH, a TEXT_FIELDS field holding elements or
    repeated, a FIELD_LIMITS field longer than its limit. Characters XML cannot carry are
    dropped first (see _ILLEGAL_BYTES).
    """
    try:
        root = fromstring(_legal(body), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError, TypeError) as exc:
        raise CallbackError(400, f"malformed or hostile XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise CallbackError(400, "root element is not <xml>")
    value = _element(root, 0)
    return value if isinstance(value, dict) else {}


def _legal(body: bytes | str) -> bytes | str:
    """The body without the characters XML 1.0 cannot carry (_ILLEGAL_BYTES, _NONCHARACTERS)."""
    if isinstance(body, str):
        body = _ILLEGAL_CHARS.sub("", body)
        return _drop_illegal_refs(body.encode()) if "&#" in body else body
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return body  # UTF-16 (never WeChat's): its NUL bytes are half characters
    body = body.translate(None, _ILLEGAL_BYTES)  # a third of a regex's cost, on every callback
    for nonchar in _NONCHARACTERS:
        if nonchar in body:
            body = body.replace(nonchar, b"")
    return _drop_illegal_refs(body) if b"&#" in body else body


def _drop_illegal_refs(body: bytes) -> bytes:
    """Character references to characters XML cannot carry, dropped outside CDATA sections
    (kept inside them, where they are literal text). An unclosed CDATA section runs to the
    end (the parser refuses the body anyway)."""
    parts, start = [], 0
    while (opened := body.find(_CDATA_OPEN, start)) != -1:
        parts.append(_CHAR_REF.sub(_legal_ref, body[start:opened]))
        closed = body.find(_CDATA_CLOSE, opened + len(_CDATA_OPEN))
        end = len(body) if closed == -1 else closed + len(_CDATA_CLOSE)
        parts.append(body[opened:end])
        start = end
    parts.append(_CHAR_REF.sub(_legal_ref, body[start:]))
    return b"".join(parts)


def _legal_ref(match: re.Match) -> bytes:
    ref = match[1]
    code = int(ref[1:], 16) if ref[:1] == b"x" else int(ref)
    legal = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
    return match[0] if legal or code > 0xFFFF else b""


def _element(node: Element, depth: int) -> dict | str:
    if depth > MAX_DEPTH:
        raise CallbackError(400, f"XML nested too deep (over {MAX_DEPTH} levels)")
    children = list(node)
    if not children:
        return _text(node.tag, node.text or "")
    if node.tag in TEXT_FIELDS:
        raise CallbackError(400, f"{node.tag} must be text, not elements")
    result: dict = {}
    for child in children:
        value = _element(child, depth + 1)
        if child.tag in result:
            if child.tag in TEXT_FIELDS:
                raise CallbackError(400, f"{child.tag} given more than once")
            existing = result[child.tag]
            result[child.tag] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            result[child.tag] = value
    return result


def _text(tag: str, value: str) -> str:
    limit = FIELD_LIMITS.get(tag)
    if limit is not None and len(value) > limit:
        raise CallbackError(400, f"{tag} longer than {limit} characters")
    if tag in IDENTIFIERS and value and (value.isspace() or value != value.strip()):
        raise CallbackError(400, f"{tag} is not an identifier (blank or padded)")
    return value


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
