"""Homeowners' uploads: one cited in a rejection stays; one never cited goes, files and row."""

import io
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.core.extensions import db
from app.models import PhotoUpload
from app.models.types import utcnow
from app.services.projects import photo_uploads
from jobs.projects import prune_uploads
from tests.projects.helpers import jpeg_with_gps, node_ids, owner_headers, set_status


def _upload(mini, headers) -> str:
    response = mini.post(
        "/mini/v1/uploads",
        data={"file": (io.BytesIO(jpeg_with_gps()), "a.jpg")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    return response.json["photo_token"]


def _files(uploads) -> set[str]:
    return {str(p.relative_to(uploads)) for p in uploads.rglob("*") if p.is_file()}


def test_an_upload_never_cited_is_deleted_after_its_token_expired(site, mini, uploads):
    headers = owner_headers(site, mini)
    pid, node = site.project["id"], node_ids(site)[2]
    set_status(site, node, "in_progress")
    set_status(site, node, "pending_acceptance")
    kept_token = _upload(mini, headers)
    _upload(mini, headers)  # picked, then the homeowner changed their mind
    rejected = mini.post(
        f"/mini/v1/projects/{pid}/nodes/{node}/reject",
        headers=headers,
        json={"reason": "踢脚线不齐", "photos": [kept_token]},
    )
    assert rejected.status_code == 200
    rows = db.session.scalars(select(PhotoUpload).order_by(PhotoUpload.id)).all()
    assert [row.cited_at is not None for row in rows] == [True, False]
    (kept, kept_thumb), dropped = [(row.key, row.thumb) for row in rows]
    before = _files(uploads)
    assert {kept, kept_thumb, *dropped} <= before

    assert photo_uploads.prune(utcnow() + photo_uploads.KEEP - timedelta(minutes=1)) == 0
    with time_machine.travel(utcnow() + photo_uploads.KEEP + timedelta(minutes=1)):
        assert prune_uploads() == 1
    assert _files(uploads) == before - set(dropped)
    assert db.session.scalars(select(PhotoUpload.key)).all() == [kept]
    report = site.client.get(f"/api/v1/projects/{pid}/rejections", headers=site.manager_h).json
    assert site.client.get(report["items"][0]["photos"][0]["url"]).status_code == 200


def test_a_token_cannot_be_cited_once_its_upload_may_be_pruned(site, mini):
    headers = owner_headers(site, mini)
    pid, node = site.project["id"], node_ids(site)[2]
    set_status(site, node, "in_progress")
    set_status(site, node, "pending_acceptance")
    token = _upload(mini, headers)
    with time_machine.travel(utcnow() + timedelta(days=1, minutes=1)):
        late = mini.post(
            f"/mini/v1/projects/{pid}/nodes/{node}/reject",
            headers=headers,
            json={"reason": "踢脚线不齐", "photos": [token]},
        )
    assert (
        late.status_code == 400
        and late.json["error"]["fields"]["photos"] == "照片已失效，请重新上传"
    )
    assert db.session.scalars(select(PhotoUpload)).one().cited_at is None


def _post(mini, headers, data: bytes, name: str = "a.jpg"):
    return mini.post(
        "/mini/v1/uploads",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def test_a_stranger_who_follows_no_project_cannot_upload(site, mini, uploads):
    """Found by a probe: any logged-in stranger could make a worker decode large images."""
    stranger = mini.login("oStrangerUpload")
    refused = _post(mini, stranger, jpeg_with_gps())
    assert refused.status_code == 403 and refused.json["error"]["code"] == "not_bound"
    assert _files(uploads) == set() and db.session.scalars(select(PhotoUpload)).all() == []


def test_uploads_are_limited_per_homeowner(site, mini, uploads, monkeypatch):
    headers = owner_headers(site, mini)
    monkeypatch.setitem(mini.application.config, "MINI_UPLOAD_LIMIT", "2/hour")
    assert [_post(mini, headers, jpeg_with_gps()).status_code for _ in range(3)] == [201, 201, 429]
    assert len(db.session.scalars(select(PhotoUpload)).all()) == 2


def test_a_large_lossless_image_is_refused_and_a_large_photo_stored_smaller(site, mini, uploads):
    from PIL import Image

    from app.services.projects import photos

    headers = owner_headers(site, mini)
    side = 4001  # 16.0 MP: over the PNG ceiling, far under a JPEG's
    big_png = io.BytesIO()
    Image.new("L", (side, side)).save(big_png, format="PNG")
    refused = _post(mini, headers, big_png.getvalue(), "big.png")
    assert refused.status_code == 400 and "尺寸过大" in refused.json["error"]["fields"]["file"]
    stored = photos.prepare(jpeg_with_gps(size=(6000, 4500)))
    assert max(stored.width, stored.height) <= photos.MAX_SIDE
