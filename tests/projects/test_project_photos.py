"""Site photos: content-checked, EXIF/GPS stripped, thumbnailed, served by signed expiring URLs."""

import base64
import hashlib
import hmac
import io
from datetime import timedelta

import time_machine
from PIL import Image
from sqlalchemy import func, select

from app.core import media_tokens as media
from app.core.extensions import db
from app.models import ProgressEntry, TimelineEvent
from app.models.types import utcnow
from tests.projects.helpers import jpeg_with_gps, node_ids, owner_headers, png_bytes, sign


def _post_log(site, files, text="今天完成水电开槽", headers=None):
    data = {"text": text, "node_id": str(node_ids(site)[1]), "photos": files}
    return site.client.post(
        f"/api/v1/projects/{site.project['id']}/logs",
        data=data,
        headers=headers or site.pm_h,
        content_type="multipart/form-data",
    )


def _stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_jpeg_with_gps_is_stored_without_exif_and_with_a_thumbnail(site, uploads):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the input has GPS
    response = _post_log(
        site, [(io.BytesIO(original), "IMG_0001.jpg"), (io.BytesIO(png_bytes()), "a.png")]
    )
    assert response.status_code == 201, response.json
    entry = db.session.scalars(select(ProgressEntry)).one()
    assert len(entry.photos) == 2
    main_path = uploads / entry.photos[0]["key"]
    stored = Image.open(main_path)
    assert stored.format == "JPEG" and stored.size == (1200, 900)
    assert not stored.getexif() and "exif" not in stored.info
    assert b"SpyCam" not in main_path.read_bytes()
    thumb = Image.open(uploads / entry.photos[0]["thumb"])
    assert max(thumb.size) <= 400
    assert entry.photos[1]["type"] == "image/png"
    event = db.session.scalars(select(TimelineEvent).filter_by(kind="progress_log")).one()
    assert event.payload["photos"] == 2 and event.customer_id == site.customer.id


def test_signed_url_serves_the_photo_then_expires_and_forgeries_fail(site):
    response = _post_log(site, [(io.BytesIO(jpeg_with_gps()), "x.jpg")])
    photo = response.json["photos"][0]
    start = utcnow()
    with time_machine.travel(start, tick=False):
        url = site.client.get(
            f"/api/v1/projects/{site.project['id']}/feed", headers=site.pm_h
        ).json["items"][0]["photos"][0]["url"]
        served = site.client.get(url)
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert site.client.get(photo["thumb_url"]).status_code == 200
        assert site.client.get(url[:-3] + "abc").status_code == 404
        assert site.client.get("/media/not-a-token").status_code == 404
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert site.client.get(url).status_code == 403


def _feed_photos(site):
    return [
        photo
        for item in site.client.get(
            f"/api/v1/projects/{site.project['id']}/feed", headers=site.pm_h
        ).json["items"]
        for photo in item["photos"]
    ]


def test_one_photo_token_serves_image_and_thumbnail_and_both_expire(site, uploads):
    _post_log(site, [(io.BytesIO(jpeg_with_gps()), "x.jpg")])
    start = utcnow()
    with time_machine.travel(start, tick=False):
        photo = _feed_photos(site)[0]
        assert photo["thumb_url"] == photo["url"] + "/thumb"
        full, thumb = site.client.get(photo["url"]), site.client.get(photo["thumb_url"])
        assert full.status_code == thumb.status_code == 200
        assert Image.open(io.BytesIO(full.data)).size == (1200, 900)
        assert max(Image.open(io.BytesIO(thumb.data)).size) <= 400
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert site.client.get(photo["url"]).status_code == 403
        assert site.client.get(photo["thumb_url"]).status_code == 403


def test_a_photo_token_cannot_be_moved_to_another_photo(site, uploads):
    files = [
        (io.BytesIO(jpeg_with_gps(color=c)), f"{i}.jpg")
        for i, c in enumerate(((1, 2, 3), (9, 8, 7)))
    ]
    _post_log(site, files)
    first, second = (p["url"].removeprefix("/media/").split(".") for p in _feed_photos(site))
    forged = ".".join([second[0], *first[1:]])  # the other photo's key under this signature
    for suffix in ("", "/thumb"):
        assert site.client.get(f"/media/{forged}{suffix}").status_code == 404
        assert site.client.get("/media/" + ".".join(first) + suffix).status_code == 200


def test_a_token_names_exactly_its_image_and_thumbnail(ctx):
    photos = [
        {"key": "p/a.jpg", "thumb": "p/a_thumb.jpg"},
        {"key": "p/b.png", "thumb": "t/b.jpg"},
        {"key": "p/c.jpg"},
    ]
    with ctx.test_request_context():
        urls = [media.photo_urls(p) for p in photos]
        tokens = [u["url"].removeprefix("/media/") for u in urls]
        assert [tuple(media.key_of(t)) for t in tokens] == [
            ("p/a.jpg", "p/a_thumb.jpg"),
            ("p/b.png", "t/b.jpg"),
            ("p/c.jpg", None),
        ]
        assert urls[2]["thumb_url"] is None and urls[1]["thumb_url"] == urls[1]["url"] + "/thumb"
        a, b, c = (t.split(".") for t in tokens)
        for forged in ([a[0], b[1], *a[2:]], [a[0], c[1], *a[2:]], [c[0], a[1], *c[2:]]):
            assert media.key_of(".".join(forged)) is None


def test_a_url_of_the_previous_format_still_works_until_it_expires(site, uploads):
    response = _post_log(site, [(io.BytesIO(jpeg_with_gps()), "x.jpg")])
    key = db.session.scalars(select(ProgressEntry)).one().photos[0]["key"]
    start = utcnow()
    secret = site.client.application.config["SECRET_KEY"].encode()
    mac_key = hashlib.sha256(b"zxcrm media url v1|" + secret).digest()
    body = f"{_b64(key)}.{int(start.timestamp()):x}"
    url = f"/media/{body}.{_b64(hmac.digest(mac_key, body.encode(), 'sha256')[:18])}"
    with time_machine.travel(start, tick=False):
        assert response.status_code == 201 and site.client.get(url).status_code == 200
        assert site.client.get(url[:-2] + "xx").status_code == 404
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert site.client.get(url).status_code == 403


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_text_file_named_jpg_is_refused_and_nothing_is_stored(site, uploads):
    response = _post_log(
        site,
        [(io.BytesIO(jpeg_with_gps()), "ok.jpg"), (io.BytesIO(b"hello, I am text"), "evil.jpg")],
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_photo"
    assert "JPG" in response.json["error"]["fields"]["photos"]
    assert _stored_files(uploads) == []
    assert db.session.scalar(select(func.count(ProgressEntry.id))) == 0


def test_fake_magic_bytes_heic_and_oversize_are_refused(site, uploads):
    truncated = jpeg_with_gps()[:200]  # JPEG magic, broken body
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    for data, words in ((truncated, "有效的图片"), (heic, "HEIC")):
        response = _post_log(site, [(io.BytesIO(data), "p.jpg")])
        assert response.status_code == 400 and words in response.json["error"]["message"]
    site.client.application.config["PHOTO_MAX_BYTES"] = 1000
    try:
        response = _post_log(site, [(io.BytesIO(jpeg_with_gps()), "big.jpg")])
    finally:
        site.client.application.config["PHOTO_MAX_BYTES"] = 10 * 1024 * 1024
    assert response.status_code == 400 and "不能超过" in response.json["error"]["message"]
    assert _stored_files(uploads) == []


def test_at_most_nine_photos(site):
    files = [(io.BytesIO(png_bytes()), f"{i}.png") for i in range(10)]
    response = _post_log(site, files)
    assert response.status_code == 400 and "9" in response.json["error"]["message"]


def test_qc_report_findings_with_photos_reach_the_homeowner_feed(site, mini):
    headers = owner_headers(site, mini)
    findings = (
        '[{"text": "卫生间防水高度不足", "hazard": "high"}, {"text": "插座歪斜", "hazard": "low"}]'
    )
    response = site.client.post(
        f"/api/v1/projects/{site.project['id']}/reports",
        data={
            "findings": findings,
            "text": "第 3 周巡检",
            "photo_0": (io.BytesIO(jpeg_with_gps()), "f.jpg"),
        },
        headers=site.supervisor_h,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    _post_log(site, [(io.BytesIO(png_bytes()), "a.png")])
    feed = mini.get(f"/mini/v1/projects/{site.project['id']}/feed", headers=headers).json
    log, report = feed["items"]
    assert log["kind"] == "log" and report["kind_label"] == "监理巡检"
    assert (
        report["findings"][0]["hazard_label"] == "严重"
        and report["findings"][0]["photo"]["thumb_url"]
    )
    assert report["findings"][1]["photo"] is None
    assert mini.get(report["findings"][0]["photo"]["url"]).status_code == 200
    bad = site.client.post(
        f"/api/v1/projects/{site.project['id']}/reports",
        data={"findings": '[{"text": "x", "hazard": "huge"}]'},
        headers=site.supervisor_h,
    )
    assert bad.status_code == 400 and "findings" in bad.json["error"]["fields"]


def test_photos_larger_than_the_general_body_limit_are_accepted(site):
    noise = Image.frombytes("RGB", (1400, 1400), __import__("os").urandom(1400 * 1400 * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > site.client.application.config["MAX_CONTENT_LENGTH"]
    response = _post_log(site, [(io.BytesIO(out.getvalue()), "big.jpg")])
    assert response.status_code == 201, response.json


def test_a_log_for_another_projects_node_stores_no_photo(site, uploads):
    other = sign(site)["nodes"][0]["id"]
    response = site.client.post(
        f"/api/v1/projects/{site.project['id']}/logs",
        data={
            "text": "日志",
            "node_id": str(other),
            "photos": [(io.BytesIO(png_bytes()), "a.png")],
        },
        headers=site.pm_h,
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "node_id" in response.json["error"]["fields"]
    assert _stored_files(uploads) == []


def test_a_form_missing_a_field_beside_a_photo_is_400_not_500(site, uploads, mini):
    """Found by a probe: the validation error carried the file, which JSON could not encode."""
    photo = (io.BytesIO(jpeg_with_gps()), "a.jpg")
    missing = site.client.post(
        f"/api/v1/projects/{site.project['id']}/logs",
        data={"photos": photo},
        headers=site.pm_h,
        content_type="multipart/form-data",
    )
    assert missing.status_code == 400 and "text" in missing.json["error"]["fields"]
    headers = owner_headers(site, mini)
    misnamed = mini.post(
        "/mini/v1/uploads",
        data={"picture": (io.BytesIO(jpeg_with_gps()), "a.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert misnamed.status_code == 400 and "file" in misnamed.json["error"]["fields"]
    assert _stored_files(uploads) == []
