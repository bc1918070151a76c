"""Signed, expiring URLs for stored photos (served by app.web.media at /media/<token> and
/media/<token>/thumb).

A token is `<base64 key>.<thumbnail>.<unix time, hex>.<MAC>`: one token per photo covers the
full image and its thumbnail, so a feed page of 40 photos signs 40 times, not 80. <thumbnail>
is `~` for the thumbnail photos.store names (`<stem>_thumb.jpg`), the base64 of any other
thumbnail key, or empty when there is none. The MAC is keyed BLAKE2b (144 bits), keyed by a key derived from SECRET_KEY
for this purpose only; it binds both keys and the time, so a token cannot be moved to
another photo. It is good for MEDIA_URL_TTL seconds after it was issued, and a stamp more
than CLOCK_SKEW ahead of the clock is never good: expired → 403, forged, altered or
unknown → 404. Tokens of the previous format (one key, HMAC-SHA256) are
still honoured until they expire.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import NamedTuple

from flask import current_app, request

PURPOSE = b"zxcrm media url v2|"
LEGACY_PURPOSE = b"zxcrm media url v1|"
SIG_BYTES = 18
CLOCK_SKEW = 300  # seconds a stamp may be ahead of this server's clock (another server's)
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class Expired(Exception):
    """A genuine token whose time is up."""


class Signed(NamedTuple):
    """What a genuine token names: the photo's storage key and its thumbnail's (or None)."""

    key: str
    thumb: str | None


def _key(purpose: bytes = PURPOSE) -> bytes:
    """This app's media key, derived from SECRET_KEY for this purpose only."""
    cache = current_app.extensions.setdefault("media_keys", {})
    key = cache.get(purpose)
    if key is None:
        key = hashlib.sha256(purpose + current_app.config["SECRET_KEY"].encode()).digest()
        cache[purpose] = key
    return key


def _mac() -> hashlib.blake2b:
    """The keyed BLAKE2b state with the key already absorbed: each signature copies it
    instead of absorbing the key again (a feed page signs 40 photos)."""
    cache = current_app.extensions.setdefault("media_keys", {})
    mac = cache.get("mac")
    if mac is None:
        mac = cache["mac"] = hashlib.blake2b(key=_key(), digest_size=SIG_BYTES)
    return mac


def _b64(data: bytes) -> str:
    # base64.urlsafe_b64encode, minus two Python call layers: a feed page makes 120 of these.
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def _sign(body: str, mac: hashlib.blake2b) -> str:
    # Keyed BLAKE2b is a MAC on its own (no HMAC construction): one pass, a third of the time.
    state = mac.copy()
    state.update(body.encode())
    return _b64(state.digest())


DERIVED = "~"  # not in the base64url alphabet


def _thumb_of(storage_key: str) -> str:
    """The thumbnail key photos.store gives a photo."""
    return f"{storage_key.rpartition('.')[0]}_thumb.jpg"


def _token(storage_key: str, thumb: str | None, stamp: str, mac: hashlib.blake2b) -> str:
    if not thumb:
        thumb_part = ""
    elif thumb == _thumb_of(storage_key):
        thumb_part = DERIVED
    else:
        thumb_part = _b64(thumb.encode())
    body = f"{_b64(storage_key.encode())}.{thumb_part}.{stamp}"
    return f"{body}.{_sign(body, mac)}"


def url_context() -> tuple[str, str, hashlib.blake2b]:
    """(URL prefix, issue time, MAC state): looked up once for all the photo URLs of a page."""
    return f"{request.script_root}/media/", f"{int(time.time()):x}", _mac()


def signed_url(key: str | None) -> str | None:
    """A relative URL that serves `key` until MEDIA_URL_TTL passes."""
    if not key:
        return None
    prefix, stamp, mac = url_context()
    return prefix + _token(key, None, stamp, mac)


def _legacy(token: str) -> tuple[str, str] | None:
    """(base64 key, stamp) of a genuine token of the previous format (HMAC-SHA256, one key)."""
    body, _, signature = token.rpartition(".")
    mac = hmac.digest(_key(LEGACY_PURPOSE), body.encode(), "sha256")[:SIG_BYTES]
    if not hmac.compare_digest(_b64(mac), signature):
        return None
    encoded, _, stamp = body.partition(".")
    return encoded, stamp


def _verified(token: str) -> tuple[str, str, str] | None:
    """(base64 key, thumbnail part, stamp) of a genuine token; None if forged."""
    parts = token.split(".")
    if len(parts) == 3:
        legacy = _legacy(token)
        return (legacy[0], "", legacy[1]) if legacy else None
    if len(parts) != 4:
        return None
    body = token[: -len(parts[3]) - 1]
    if not hmac.compare_digest(_sign(body, _mac()), parts[3]):
        return None
    return parts[0], parts[1], parts[2]


def key_of(token: str) -> Signed | None:
    """The storage keys a genuine token names; None if forged; raises Expired when too old."""
    verified = _verified(token)
    if verified is None:
        return None
    encoded, thumb, stamp = verified
    try:
        issued = int(stamp, 16)
        key = _unb64(encoded)
        signed = Signed(key, _thumb_of(key) if thumb == DERIVED else _unb64(thumb) or None)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    age = time.time() - issued
    # A stamp ahead of our clock is one no server of ours issued just now (a clock that ran
    # ahead, a key that leaked): honoured only within CLOCK_SKEW, or it would never expire.
    if age > current_app.config["MEDIA_URL_TTL"] or age < -CLOCK_SKEW:
        raise Expired(signed.key)
    return signed


def photo_urls(photo: dict | None, context: tuple | None = None) -> dict | None:
    """{url, thumb_url, width, height} of a stored photo dict; `context`: url_context().

    Both URLs carry the same token; the thumbnail's adds `/thumb`."""
    if not photo:
        return None
    key, thumb = photo.get("key"), photo.get("thumb")
    if key:
        prefix, stamp, mac = context or url_context()
        url = prefix + _token(key, thumb, stamp, mac)
    else:
        url = None
    return {
        "url": url,
        "thumb_url": f"{url}/thumb" if url and thumb else None,
        "width": photo.get("width"),
        "height": photo.get("height"),
    }
