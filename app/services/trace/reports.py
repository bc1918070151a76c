"""Inspection report files (质检报告): a PDF or an image, checked by content, kept in storage.

What the bytes are decides, never the file name: a PDF must start with "%PDF-" and open in
PDFium (pypdfium2) with at least one page; an image must be a JPEG, PNG or WebP that Pillow
decodes, and is re-encoded without its metadata (EXIF can carry a GPS position). Anything
else, or a file over TRACE_REPORT_MAX_BYTES, is refused before anything is stored. The
public page links the report; it is served with a sandboxing CSP (a PDF's scripts run in
no origin of ours).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import pypdfium2
from flask import current_app
from PIL import Image, UnidentifiedImageError

from app.core.errors import Invalid, NotFound
from app.core.storage import get_storage
from app.models import MaterialBatch
from app.models.types import utcnow

IMAGE_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
MAX_PIXELS = 60_000_000  # also stops decompression bombs
REFUSED = "质检报告只能是 PDF 或图片（JPG、PNG、WebP）"


@dataclass(frozen=True)
class Report:
    data: bytes
    ext: str
    content_type: str


def _invalid(message: str) -> Invalid:
    return Invalid(message, fields={"report": message})


def _pdf(data: bytes) -> Report:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise _invalid("PDF 文件已损坏或无法打开") from exc
    try:
        if len(document) < 1:
            raise _invalid("PDF 文件没有页面")
    finally:
        document.close()
    return Report(data, "pdf", "application/pdf")


def _image(data: bytes) -> Report:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in IMAGE_FORMATS or probe.width * probe.height > MAX_PIXELS:
                raise _invalid(REFUSED)
            fmt = probe.format
            probe.load()
            picture = (
                probe.convert("RGB") if fmt == "JPEG" and probe.mode != "RGB" else probe.copy()
            )
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise _invalid(REFUSED) from exc
    out = io.BytesIO()
    picture.save(out, fmt, quality=90) if fmt != "PNG" else picture.save(out, fmt)
    ext, content_type = IMAGE_FORMATS[fmt]
    return Report(out.getvalue(), ext, content_type)


def check(data: bytes) -> Report:
    """The report to store, or Invalid naming the field `report`."""
    limit = current_app.config["TRACE_REPORT_MAX_BYTES"]
    if not data:
        raise _invalid("请选择质检报告文件")
    if len(data) > limit:
        raise _invalid(f"质检报告不能超过 {max(limit // (1024 * 1024), 1)} MB")
    return _pdf(data) if data.startswith(b"%PDF-") else _image(data)


def attach(batch: MaterialBatch, data: bytes) -> str | None:
    """Check and store the report as the batch's; the previous report's key, which the
    caller discards once the change is committed."""
    report = check(data)
    key = f"trace/reports/{batch.id}/{uuid.uuid4().hex}.{report.ext}"
    storage = get_storage()
    storage.save(key, report.data, report.content_type)
    previous = batch.report_key
    batch.report_key, batch.report_type = key, report.content_type
    batch.report_uploaded_at = utcnow()
    return previous


def discard(key: str | None) -> None:
    if key:
        get_storage().delete(key)


def max_request_bytes() -> int:
    """A report upload's body limit: the file and the multipart framing around it."""
    return current_app.config["TRACE_REPORT_MAX_BYTES"] + 64 * 1024


def require(key: str | None, content_type: str | None) -> tuple[bytes, str]:
    """(bytes, content type) of a stored report; NotFound when there is none."""
    data = get_storage().read(key) if key else None
    if data is None:
        raise NotFound("该批次还没有上传质检报告")
    return data, content_type or "application/octet-stream"
