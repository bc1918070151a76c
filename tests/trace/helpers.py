"""Fixtures and helpers of the material-traceability tests."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from fpdf import FPDF
from PIL import Image

from app.cli.seed import DEMO_RESULTS as RESULTS
from app.cli.seed import DEMO_TILE as TILE
from app.core import rate_limit


@pytest.fixture(autouse=True)
def fresh_limits(app):
    """Each test starts with no scans counted against the test client's address."""
    rate_limit.forget(app)
    yield
    rate_limit.forget(app)


def api(team, method: str, path: str, expect: int = 200, headers=None, **kwargs):
    response = getattr(team.client, method)(
        f"/api/v1{path}", headers=headers or team.manager_h, **kwargs
    )
    assert response.status_code == expect, (
        response.status_code,
        response.get_data(as_text=True)[:500],
    )
    return response


def make_batch(team, batch_no: str = "B20261101", quantity: int = 500, **extra) -> dict:
    supplier = api(team, "post", "/trace/suppliers", 201, json={"name": f"佛山建材{batch_no}"})
    material = api(team, "post", "/trace/materials", 201, json={**TILE, "model": f"YT-{batch_no}"})
    body = {
        "material_id": material.json["id"],
        "supplier_id": supplier.json["id"],
        "batch_no": batch_no,
        "production_date": "2026-10-08",
        "quantity": quantity,
        "contract_ref": "CG-2026-0113",
        "report_no": "GT2026-0921",
        "inspection_agency": "国家建筑材料质量检验检测中心",
        "inspection": RESULTS,
        **extra,
    }
    return api(team, "post", "/trace/batches", 201, json=body).json


def make_codes(team, batch_id: int, count: int) -> list[dict]:
    response = api(team, "post", f"/trace/batches/{batch_id}/codes", 201, json={"count": count})
    return response.json["items"]


def deliver(team, batch_id: int, expect: int = 201, headers=None, **body):
    body.setdefault("project_id", team.project["id"])
    path = f"/trace/batches/{batch_id}/deliveries"
    return api(team, "post", path, expect, headers=headers, json=body)


@pytest.fixture
def stocked(site):
    """The site of tests/projects (a signed project at 锦绣苑), a tile batch with 30 codes."""
    batch = make_batch(site)
    return SimpleNamespace(team=site, batch=batch, codes=make_codes(site, batch["id"], 30))


def pdf_bytes(pages: int = 1) -> bytes:
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.cell(text="Inspection report GT2026-0921")
    return bytes(pdf.output())


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0110] = "SpyCam 3000"  # Model
    Image.new("RGB", (320, 200), (220, 220, 220)).save(out, "JPEG", exif=exif)
    return out.getvalue()
