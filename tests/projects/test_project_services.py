"""The project services called directly: photos, validation, change orders, invites, tokens."""

import io
from datetime import timedelta
from typing import Literal

import pytest
from PIL import Image, PngImagePlugin
from pydantic import Field, ValidationError

from app.core.errors import Conflict, Invalid, NotFound, Unauthenticated
from app.core.extensions import db
from app.models import Customer, Invite
from app.models.types import utcnow
from app.schemas.base import Day, Integer, Shape, Text, field_messages
from app.schemas.errors import status_of
from app.services.customers import mini_auth
from app.services.projects import change_orders, invites, photos, projects
from tests.projects.helpers import jpeg_with_gps, node_ids


def test_sniff_knows_the_formats_by_their_magic_bytes():
    assert photos.sniff(jpeg_with_gps()) == "JPEG"
    assert photos.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert photos.sniff(b"\x00\x00\x00\x18ftypheic") == "HEIC"
    assert photos.sniff(b"GIF89a") is None


def test_png_text_chunks_and_webp_exif_do_not_survive(ctx):
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "31.23N 121.47E")
    out = io.BytesIO()
    Image.new("RGB", (30, 20)).save(out, "PNG", pnginfo=info)
    prepared = photos.prepare(out.getvalue())
    assert b"121.47E" not in prepared.data and prepared.fmt == "PNG"
    webp = io.BytesIO()
    Image.open(io.BytesIO(jpeg_with_gps())).save(
        webp, "WEBP", exif=Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    )
    cleaned = photos.prepare(webp.getvalue())
    assert b"SpyCam" not in cleaned.data and not Image.open(io.BytesIO(cleaned.data)).getexif()


class _Sample(Shape):
    a: Text(20) = Field(title="名称")
    n: Integer(1, 10) = Field(title="数量")
    d: Day = Field(title="日期")
    c: Literal["owner"] = Field(title="类型")
    photos: list[Text(20)] = Field(title="照片")
    missing: Text(20) = Field(title="备注")


def test_declared_shapes_collect_every_error_in_chinese():
    body = {"a": "\x00bad", "n": True, "d": "2026-13-01", "c": "x", "photos": [1]}
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate(body)
    assert field_messages(caught.value, _Sample) == {
        "a": "名称不能包含空字符 (\\u0000)",
        "n": "数量必须是整数",
        "d": "日期必须是 YYYY-MM-DD 格式的日期",
        "c": "类型只能是: owner",
        "photos": "照片必须是文字",
        "missing": "备注不能为空",
    }


def test_change_order_is_decided_once_and_budget_follows(site):
    project = projects.load_for_staff(site.pm, site.project["id"])
    owner = db.session.get(Customer, site.customer.id)
    order = change_orders.propose(project, site.pm, "改水电", 50_000)
    change_orders.decide(order, owner, approve=True)
    with pytest.raises(Conflict) as caught:
        change_orders.decide(order, owner, approve=False)
    assert status_of(caught.value) == 409
    assert projects.budget(project)["total_fen"] == 18_850_000
    assert (
        projects.budget(project, change_orders.for_project(project.id))["total_fen"] == 18_850_000
    )


def test_expired_invite_is_refused(site):
    owner = db.session.get(Customer, site.customer.id)
    invite = invites.create(owner, site.sales, "owner", None)
    invite.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    stranger = Customer(name="新用户")
    db.session.add(stranger)
    db.session.flush()
    with pytest.raises(Invalid) as caught:
        invites.bind_invite(stranger, invite.code)
    assert "invite_code" in caught.value.fields
    assert db.session.get(Invite, invite.id).used_at is None


def test_forged_or_unknown_session_tokens_are_401(ctx):
    for token in ("eyJvIjoib1gifQ.AAAAAA.forged", "x" * 43, "x" * 101, " "):
        with pytest.raises(Unauthenticated) as caught:
            mini_auth.authenticate(token)
        assert status_of(caught.value) == 401


def test_node_ids_belong_to_their_project(site):
    from app.services.projects import nodes

    project = projects.load_for_staff(site.pm, site.project["id"])
    assert nodes.load(project, node_ids(site)[0]).name == "开工交底"
    with pytest.raises(NotFound):
        nodes.load(project, 2**40)
