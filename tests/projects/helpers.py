"""Fixtures and helpers for the project / mini-program tests (imported by those modules)."""

from __future__ import annotations

import io
import itertools
from types import SimpleNamespace

import pytest
from PIL import ExifTags, Image

from app import create_app
from app.core.extensions import db
from app.models import Customer
from tests.conftest import env_for_tests

MINI_APPID, MINI_SECRET = "wxminiapp000001", "mini-secret"


def jpeg_with_gps(size=(1200, 900), color=(200, 120, 40)) -> bytes:
    """A real JPEG whose EXIF carries a GPS position and a camera model."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "SpyCam 3000"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 5.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 9.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def uploads(ctx, tmp_path):
    """Photos go to a temporary directory for this test."""
    previous = ctx.config["UPLOAD_DIR"]
    ctx.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    ctx.config["UPLOAD_DIR"] = previous


@pytest.fixture
def site(client, bearer, uploads):
    """A store with its team, a customer of the sales rep, and a signed project."""
    team = SimpleNamespace(client=client)
    for key, name, roles in (
        ("sales", "李销售", "sales"),
        ("pm", "王项目", "pm"),
        ("supervisor", "赵监理", "supervisor"),
        ("manager", "钱店长", "manager"),
        ("designer", "孙设计", "designer"),
    ):
        staff, headers = bearer(name, roles, "城东旗舰店")
        setattr(team, key, staff)
        setattr(team, f"{key}_h", headers)
    customer = Customer(name="张业主", owner_id=team.sales.id, store_id=team.sales.store_id)
    db.session.add(customer)
    db.session.commit()
    team.customer = customer
    team.project = sign(team)
    return team


def sign(team, **extra) -> dict:
    body = {
        "customer_id": team.customer.id,
        "address": "浦东新区锦绣路 100 弄 8 号 1201",
        "community": "锦绣苑",
        "area_m2": "98.5",
        "package_name": "全包 899 套餐",
        "contract_amount_fen": 18_800_000,
        "contract_date": "2026-03-01",
        "planned_start": "2026-03-10",
        "pm_id": team.pm.id,
        "supervisor_id": team.supervisor.id,
        "designer_id": team.designer.id,
        **extra,
    }
    response = team.client.post("/api/v1/projects", json=body, headers=team.sales_h)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def mini(ctx, fake_wechat, uploads):
    """A second app on the same database, with the mini program pointed at the fake."""
    fake_wechat.add_app(MINI_APPID, MINI_SECRET)
    app = create_app(env_for_tests(WECHAT_API_BASE=fake_wechat.url, UPLOAD_DIR=str(uploads)))
    client = app.test_client()
    client.fake = fake_wechat

    codes = itertools.count(1)

    def login(openid: str, unionid: str | None = None) -> dict:
        code = f"code-{openid}-{next(codes)}"  # a wx.login code is single use
        fake_wechat.add_js_code(code, openid=openid, unionid=unionid)
        response = client.post("/mini/v1/login", json={"code": code})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    client.login = login
    return client


def invite(team, kind="owner", project_id=None) -> str:
    body = {"kind": kind} | ({"project_id": project_id} if project_id else {})
    response = team.client.post(
        f"/api/v1/customers/{team.customer.id}/invites", json=body, headers=team.sales_h
    )
    assert response.status_code == 201, response.json
    return response.json["code"]


def owner_headers(team, mini_client, openid="oOwner0001") -> dict:
    """A homeowner logged in to the mini program and bound to the site's customer."""
    headers = mini_client.login(openid)
    code = invite(team)
    response = mini_client.post("/mini/v1/bind", json={"invite_code": code}, headers=headers)
    assert response.status_code == 200, response.json
    return headers


def node_ids(team) -> list[int]:
    return [n["id"] for n in team.project["nodes"]]


def set_status(team, node_id: int, status: str, headers=None):
    url = f"/api/v1/projects/{team.project['id']}/nodes/{node_id}"
    return team.client.patch(url, json={"status": status}, headers=headers or team.pm_h)
