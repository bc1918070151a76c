"""The catalog through the staff API: suppliers, materials, batches, inspection reports."""

import io

from sqlalchemy import func, select

from app.core.extensions import db
from app.models import MaterialBatch, Supplier
from tests.trace.helpers import RESULTS, TILE, api, jpeg_bytes, make_batch, pdf_bytes


def test_a_batch_is_created_with_its_inspection_results(site):
    batch = make_batch(site)
    assert batch["material"]["brand"] == "东鹏" and batch["supplier"]["name"].startswith("佛山")
    assert batch["inspection"] == RESULTS and batch["production_date"] == "2026-10-08"
    assert batch["contract_ref"] == "CG-2026-0113" and batch["report"] is None
    listed = api(site, "get", "/trace/batches", headers=site.pm_h).json
    assert [b["id"] for b in listed["items"]] == [batch["id"]] and listed["next_cursor"] is None
    patched = api(
        site,
        "patch",
        f"/trace/batches/{batch['id']}",
        json={"inspection": [{"item": "放射性", "result": "A类（内照射指数 0.2）"}]},
    ).json
    assert patched["inspection"][0]["result"] == "A类（内照射指数 0.2）"
    assert patched["contract_ref"] == "CG-2026-0113"  # what the request left out stays


def test_duplicates_are_409_and_change_nothing(site):
    api(site, "post", "/trace/suppliers", 201, json={"name": "佛山建材"})
    again = api(site, "post", "/trace/suppliers", 409, json={"name": "佛山建材"})
    assert again.json["error"]["fields"]["name"]
    assert db.session.scalar(select(func.count()).select_from(Supplier)) == 1
    api(site, "post", "/trace/materials", 201, json=TILE)
    api(site, "post", "/trace/materials", 409, json=TILE)
    batch = make_batch(site, "B1")
    body = {
        "material_id": batch["material"]["id"],
        "supplier_id": batch["supplier"]["id"],
        "batch_no": "B1",
    }
    api(site, "post", "/trace/batches", 409, json=body)


def test_bad_input_is_400_with_field_messages(site):
    bad = api(site, "post", "/trace/materials", 400, json={**TILE, "category": "家具"})
    assert "类别" in bad.json["error"]["fields"]["category"]
    missing = api(site, "post", "/trace/batches", 400, json={"batch_no": "X"})
    assert {"material_id", "supplier_id"} <= set(missing.json["error"]["fields"])
    unknown = api(
        site,
        "post",
        "/trace/batches",
        404,
        json={"material_id": 99, "supplier_id": 98, "batch_no": "X"},
    )
    assert set(unknown.json["error"]["fields"]) == {"material_id", "supplier_id"}
    api(site, "post", "/trace/suppliers", 400, json=["佛山建材"])


def test_only_admins_and_managers_keep_the_catalog(site):
    for headers in (site.sales_h, site.pm_h, site.designer_h):
        api(site, "post", "/trace/suppliers", 403, json={"name": "佛山建材"}, headers=headers)
    api(site, "get", "/trace/suppliers", headers=site.sales_h)
    assert site.client.get("/api/v1/trace/suppliers").status_code == 401


def _upload(site, batch_id, data: bytes, name: str, expect: int):
    return api(
        site,
        "post",
        f"/trace/batches/{batch_id}/report",
        expect,
        data={"report": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _stored_files(uploads) -> list:
    return [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []


def test_a_pdf_report_is_stored_and_served(site, uploads):
    batch = make_batch(site)
    report = pdf_bytes(2)
    uploaded = _upload(site, batch["id"], report, "报告.jpg", 200).json  # the name says nothing
    assert uploaded["report"]["content_type"] == "application/pdf"
    served = api(site, "get", f"/trace/batches/{batch['id']}/report", headers=site.sales_h)
    assert served.data == report and served.mimetype == "application/pdf"
    assert served.headers["Content-Security-Policy"] == "sandbox"
    assert len(_stored_files(uploads)) == 1
    _upload(site, batch["id"], jpeg_bytes(), "scan.pdf", 200)  # a photo of the report replaces it
    files = _stored_files(uploads)
    assert len(files) == 1 and files[0].suffix == ".jpg"
    assert b"SpyCam" not in files[0].read_bytes()  # metadata dropped when re-encoded


def test_a_report_that_is_not_a_pdf_or_image_is_400_and_nothing_is_stored(site, uploads):
    batch = make_batch(site)
    for data, name in (
        (b"<html><script>alert(1)</script></html>", "report.pdf"),
        (b"%PDF-1.7\n this is not really a pdf\n%%EOF", "report.pdf"),
        (b"GIF89a" + b"\x00" * 64, "report.gif"),
        (b"", "empty.pdf"),
    ):
        refused = _upload(site, batch["id"], data, name, 400)
        assert refused.json["error"]["fields"]["report"]
    assert _stored_files(uploads) == []
    assert db.session.get(MaterialBatch, batch["id"]).report_key is None
    site.client.application.config["TRACE_REPORT_MAX_BYTES"] = 300
    try:
        too_big = _upload(site, batch["id"], pdf_bytes(), "big.pdf", 400)
    finally:
        site.client.application.config["TRACE_REPORT_MAX_BYTES"] = 20 * 1024 * 1024
    assert "MB" in too_big.json["error"]["fields"]["report"] and _stored_files(uploads) == []
    api(site, "get", f"/trace/batches/{batch['id']}/report", 404)
