"""An independent implementation of WeChat's callback crypto, for driving the endpoints.

Written from the documented algorithm (not from wechatpy, which the app uses), so a bug in
one is not silently mirrored in the other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import time
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# The documented samples (crypto vectors, every message and event, API shapes), copied into
# the repo so a clone in an empty folder tests with nothing beside it.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wechat"

MP = {
    "token": "spamtest",
    "key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "appid": "wx2c2769f8efd9abc2",
}
WORK = {
    "token": "QDG6eK",
    "key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "corp": "wx5823bf96d3bd56c7",
}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def vectors() -> dict:
    return {v["id"]: v for v in json.loads(fixture("vectors.json"))["vectors"]}


def sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cipher(key: str):
    raw = base64.b64decode(key + "=")
    return Cipher(algorithms.AES(raw), modes.CBC(raw[:16]))


def encrypt(plaintext: str, key: str, receive_id: str, random16: bytes | None = None) -> str:
    body = plaintext.encode()
    frame = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + receive_id.encode()
    pad = 32 - len(frame) % 32  # PKCS#7 to a multiple of 32, as WeChat documents
    frame += bytes([pad]) * pad
    enc = _cipher(key).encryptor()
    return base64.b64encode(enc.update(frame) + enc.finalize()).decode()


def decrypt(encrypted: str, key: str) -> tuple[str, str]:
    dec = _cipher(key).decryptor()
    frame = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    frame = frame[: -frame[-1]]
    (length,) = struct.unpack(">I", frame[16:20])
    return frame[20 : 20 + length].decode(), frame[20 + length :].decode()


def now() -> str:
    """The callback timestamp WeChat would send now (callbacks refuse stale ones)."""
    return str(int(time.time()))


def mp_plain(
    xml: str, token: str = MP["token"], ts: str | None = None, nonce: str = "n1"
) -> tuple[str, bytes]:
    """(path with query, body) for a plain-mode official-account POST."""
    ts = now() if ts is None else ts
    query = {
        "signature": sha1_sorted(token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "openid": "x",
    }
    return "/wechat/mp?" + urlencode(query), xml.encode()


def mp_safe(
    xml: str, ts: str | None = None, nonce: str = "n1", appid: str = MP["appid"]
) -> tuple[str, bytes]:
    """(path, body) for a safe-mode POST: only Encrypt in the body, msg_signature over it."""
    ts = now() if ts is None else ts
    encrypted = encrypt(xml, MP["key"], appid)
    body = f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    query = {
        "signature": sha1_sorted(MP["token"], ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": sha1_sorted(MP["token"], ts, nonce, encrypted),
    }
    return "/wechat/mp?" + urlencode(query), body.encode()


def work_post(
    xml: str, ts: str | None = None, nonce: str = "n1", corp: str = WORK["corp"]
) -> tuple[str, bytes]:
    ts = now() if ts is None else ts
    encrypted = encrypt(xml, WORK["key"], corp)
    body = f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1]]></AgentID></xml>"
    query = {
        "msg_signature": sha1_sorted(WORK["token"], ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
    }
    return "/wechat/work?" + urlencode(query), body.encode()


def post_concurrently(app, deliveries: list[tuple[str, bytes]]) -> list[int]:
    """POST each (path, body) from its own thread, released together (WeChat's retries and
    parallel deliveries); the status codes."""
    import threading

    barrier, codes = threading.Barrier(len(deliveries)), []

    def deliver(path: str, body: bytes) -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(client.post(path, data=body).status_code)

    threads = [threading.Thread(target=deliver, args=pair) for pair in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes
