"""Multipart photo uploads for the APIs: read, validate all, then store (or store nothing)."""

from __future__ import annotations

from flask import request

from app.core.errors import ApiError
from app.services.projects import photos


def allow_large_body() -> None:
    """Photo endpoints accept up to 9 photos; everything else keeps MAX_BODY_BYTES."""
    request.max_content_length = photos.max_request_bytes()


def _read(name: str) -> list[bytes]:
    return [f.read() for f in request.files.getlist(name) if f and f.filename is not None]


def stored_photos(field: str = "photos") -> list[dict]:
    """Every file under `field`, validated by content then stored; 400 names the field."""
    allow_large_body()
    return store_all({field: _read(field)})[field]


def store_all(files: dict[str, list[bytes]]) -> dict[str, list[dict]]:
    """Validate every file of every field first; only then store them."""
    prepared = {}
    for field, blobs in files.items():
        try:
            prepared[field] = photos.prepare_all(blobs)
        except photos.PhotoError as exc:
            raise ApiError(400, "invalid_photo", str(exc), fields={field: str(exc)}) from exc
    return {field: [photos.store(p) for p in items] for field, items in prepared.items()}


def finding_photos(count: int) -> dict[int, dict]:
    """QC findings: file field photo_<i> belongs to finding i (at most one each)."""
    allow_large_body()
    blobs = {f"photo_{i}": _read(f"photo_{i}")[:1] for i in range(count)}
    stored = store_all({k: v for k, v in blobs.items() if v})
    return {int(k.split("_")[1]): v[0] for k, v in stored.items()}
