"""GET /media/<token> and /media/<token>/thumb: stored photos behind signed, expiring tokens
(app.core.media_tokens): expired → 403, forged, altered or unknown → 404."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, Flask, Response, abort

from app.core.media_tokens import Expired, Signed, key_of
from app.core.storage import get_storage

bp = Blueprint("media", __name__)


def _send(key: str | None) -> Response:
    data = get_storage().read(key) if key else None
    if data is None:
        abort(404)
    mimetype = mimetypes.guess_type(key)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _signed(token: str) -> Signed | None:
    try:
        return key_of(token)
    except Expired:
        abort(403, "链接已过期，请刷新页面")


@bp.get("/media/<token>")
def serve(token: str):
    signed = _signed(token)
    return _send(signed.key if signed else None)


@bp.get("/media/<token>/thumb")
def serve_thumb(token: str):
    signed = _signed(token)
    return _send(signed.thumb if signed else None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
