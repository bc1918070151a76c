"""Site photos: check the bytes are really an image, strip EXIF/GPS, store with a thumbnail.

Every photo is validated by content (magic bytes, then decoded by Pillow) and re-encoded,
which drops EXIF (GPS, camera serials) and other metadata. All photos of a request are
checked before any is stored, so a bad one stores nothing.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.storage import get_storage
from app.models.types import utcnow

MAX_PHOTOS = 9
UPLOAD_TOKEN_TTL = 86400
# Pixel ceilings, also against decompression bombs. A JPEG is decoded straight at a reduced
# scale (libjpeg's draft mode), so a 60 MP camera photo costs little; PNG and WebP are
# decoded whole, so theirs is lower (a phone screenshot is under 5 MP): a 60 MP PNG took a
# worker 4.7 s and 400 MB (found by a probe).
MAX_PIXELS = 60_000_000
MAX_PIXELS_LOSSLESS = 16_000_000
# Stored photos are at most this wide or tall: enough for a site photo on any screen.
MAX_SIDE = 4096
THUMB_SIZE = (400, 400)
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}


class PhotoError(ValueError):
    """A file that is not an acceptable photo; the message is for the user."""


@dataclass
class Prepared:
    data: bytes
    thumb: bytes
    fmt: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The format the magic bytes claim: JPEG, PNG, WEBP, HEIC, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIC"
    return None


def prepare(data: bytes) -> Prepared:
    """Validate one upload and re-encode it without metadata; raises PhotoError."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if len(data) > limit:
        raise PhotoError(f"照片不能超过 {limit // (1024 * 1024) or 1} MB")
    claimed = sniff(data)
    if claimed == "HEIC":
        raise PhotoError("暂不支持 HEIC 格式，请在微信中选择照片（会自动转为 JPG）或先转换为 JPG")
    if claimed is None:
        raise PhotoError("只能上传 JPG、PNG 或 WebP 格式的图片")
    image = _decode(data, claimed)
    clean = _encode(image, claimed)
    thumb = image.copy()
    thumb.thumbnail(THUMB_SIZE)
    return Prepared(clean, _encode(thumb, "JPEG", quality=80), claimed, *image.size)


def _decode(data: bytes, claimed: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            ceiling = MAX_PIXELS if claimed == "JPEG" else MAX_PIXELS_LOSSLESS
            if probe.format != claimed or probe.width * probe.height > ceiling:
                raise PhotoError("图片格式与内容不符或尺寸过大")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        if claimed == "JPEG":
            image.draft(None, (MAX_SIDE, MAX_SIDE))  # decode at the smallest scale that fits
        image.load()
        image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        return image
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as exc:
        if isinstance(exc, PhotoError):
            raise
        raise PhotoError("文件不是有效的图片") from exc


def _encode(image: Image.Image, fmt: str, quality: int = 88) -> bytes:
    """Re-encode without EXIF, XMP or text chunks (only pixels survive)."""
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    image.save(out, format=fmt, **options)
    return out.getvalue()


def prepare_all(files: list[bytes]) -> list[Prepared]:
    if len(files) > MAX_PHOTOS:
        raise PhotoError(f"最多上传 {MAX_PHOTOS} 张照片")
    return [prepare(data) for data in files]


def store(prepared: Prepared) -> dict:
    """Save a prepared photo and its thumbnail; the dict kept in entries and rejections."""
    ext, content_type = FORMATS[prepared.fmt]
    stem = f"photos/{utcnow():%Y/%m}/{uuid.uuid4().hex}"
    storage = get_storage()
    storage.save(f"{stem}.{ext}", prepared.data, content_type)
    storage.save(f"{stem}_thumb.jpg", prepared.thumb, "image/jpeg")
    return {
        "key": f"{stem}.{ext}",
        "thumb": f"{stem}_thumb.jpg",
        "type": content_type,
        "width": prepared.width,
        "height": prepared.height,
    }


def max_request_bytes() -> int:
    """Upload requests may carry MAX_PHOTOS photos plus form fields."""
    return current_app.config["PHOTO_MAX_BYTES"] * MAX_PHOTOS + 1024 * 1024


def _upload_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="mini-upload")


def upload_token(customer_id: int, photo: dict) -> str:
    """A mini-program upload, handed back as a signed token to cite in a later request."""
    return _upload_signer().dumps({"c": customer_id, "p": photo})


def from_upload_tokens(customer_id: int, tokens: list[str]) -> list[dict]:
    """The photos behind upload tokens this homeowner was given (within a day)."""
    found = []
    for token in tokens:
        try:
            data = _upload_signer().loads(token, max_age=UPLOAD_TOKEN_TTL)
        except BadSignature as exc:
            raise PhotoError("照片已失效，请重新上传") from exc
        if not isinstance(data, dict) or data.get("c") != customer_id:
            raise PhotoError("照片已失效，请重新上传")
        found.append(data["p"])
    return found
