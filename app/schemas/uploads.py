"""Multipart photo uploads for the APIs: read, validate all, then store (or store nothing)."""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import FileStorage

from app.core.errors import Invalid
from app.services.projects import photos


def body_limit() -> int:
    """Photo endpoints accept up to 9 photos; everything else keeps MAX_BODY_BYTES
    (`endpoint(..., body_limit=uploads.body_limit)`)."""
    return photos.max_request_bytes()


def _read(files: list[FileStorage]) -> list[bytes]:
    return [f.read() for f in files if f and f.filename is not None]


def stored_photos(files: list[FileStorage], field: str = "photos") -> list[dict]:
    """The files of form field `field`, validated by content then stored; Invalid (code
    invalid_photo) names the field, and then nothing is stored."""
    return store_all({field: _read(files)})[field]


def store_all(files: dict[str, list[bytes]]) -> dict[str, list[dict]]:
    """Validate every file of every field first; only then store them."""
    prepared = {}
    for field, blobs in files.items():
        try:
            prepared[field] = photos.prepare_all(blobs)
        except photos.PhotoError as exc:
            message = str(exc)
            raise Invalid(message, fields={field: message}, code="invalid_photo") from exc
    return {field: [photos.store(p) for p in items] for field, items in prepared.items()}


def finding_photos(count: int) -> dict[int, dict]:
    """QC findings: file field photo_<i> belongs to finding i (at most one each)."""
    blobs = {f"photo_{i}": _read(request.files.getlist(f"photo_{i}"))[:1] for i in range(count)}
    stored = store_all({k: v for k, v in blobs.items() if v})
    return {int(k.split("_")[1]): v[0] for k, v in stored.items()}
