"""Signed, expiring URLs for stored photos: GET /media/<token>.

A token is `<base64 storage key>.<unix time, hex>.<HMAC-SHA256, truncated to 144 bits>`,
keyed by a key derived from SECRET_KEY for this purpose only. It is good for MEDIA_URL_TTL
seconds after it was issued: expired → 403, forged, altered or unknown → 404.
A feed page carries dozens of these URLs, so signing is one one-shot HMAC (OpenSSL's).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import mimetypes
import time

from flask import Blueprint, Flask, Response, abort, current_app, request

from app.storage import get_storage

bp = Blueprint("media", __name__)
PURPOSE = b"zxcrm media url v1|"
SIG_BYTES = 18
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class Expired(Exception):
    """A genuine token whose time is up."""


def _key() -> bytes:
    """This app's media key, derived from SECRET_KEY for this purpose only."""
    key = current_app.extensions.get("media_key")
    if key is None:
        key = hashlib.sha256(PURPOSE + current_app.config["SECRET_KEY"].encode()).digest()
        current_app.extensions["media_key"] = key
    return key


def _b64(data: bytes) -> str:
    # base64.urlsafe_b64encode, minus two Python call layers: a feed page makes 80 of these.
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _sign(body: str, key: bytes | None = None) -> str:
    return _b64(hmac.digest(key or _key(), body.encode(), "sha256")[:SIG_BYTES])


def _url(storage_key: str | None, prefix: str, stamp: str, key: bytes) -> str | None:
    if not storage_key:
        return None
    body = f"{_b64(storage_key.encode())}.{stamp}"
    return f"{prefix}{body}.{_sign(body, key)}"


def url_context() -> tuple[str, str, bytes]:
    """(URL prefix, issue time, key): looked up once for all the photo URLs of a page."""
    return f"{request.script_root}/media/", f"{int(time.time()):x}", _key()


def signed_url(key: str | None) -> str | None:
    """A relative URL that serves `key` until MEDIA_URL_TTL passes."""
    return _url(key, *url_context()) if key else None


def key_of(token: str) -> str | None:
    """The storage key of a genuine token; None if forged; raises Expired when too old."""
    body, _, signature = token.rpartition(".")
    encoded, _, stamp = body.partition(".")
    if not body or not hmac.compare_digest(_sign(body), signature):
        return None
    try:
        issued = int(stamp, 16)
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if time.time() - issued > current_app.config["MEDIA_URL_TTL"]:
        raise Expired(key)
    return key


def photo_urls(photo: dict | None, context: tuple | None = None) -> dict | None:
    """{url, thumb_url, width, height} of a stored photo dict; `context`: url_context()."""
    if not photo:
        return None
    context = context or url_context()
    return {
        "url": _url(photo.get("key"), *context),
        "thumb_url": _url(photo.get("thumb"), *context),
        "width": photo.get("width"),
        "height": photo.get("height"),
    }


@bp.get("/media/<token>")
def serve(token: str):
    try:
        key = key_of(token)
    except Expired:
        abort(403, "链接已过期，请刷新页面")
    data = get_storage().read(key) if key else None
    if data is None:
        abort(404)
    mimetype = mimetypes.guess_type(key)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
