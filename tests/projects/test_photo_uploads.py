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
