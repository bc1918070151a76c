"""A stranger's first message: a lead assigned by the rules, its response clock started;
a console reply meets it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.core.extensions import db
from app.models import Customer, Lead, TimelineEvent
from tests import wxsign
from tests.inbound.callback_helpers import mp_event, mp_text
from tests.sales.conftest import notices

AT = 1764122400  # 2026-11-26 10:00 Asia/Shanghai, a Thursday


def test_a_strangers_first_message_is_assigned_and_starts_the_clock(client, team, rule):
    rule(reps=[team["rep2"], team["rep3"]])
    for msg_id in ("1", "1", "2"):  # WeChat's retry, then a second message
        path, body = wxsign.mp_plain(
            mp_text("你好，想装修", msg_id, openid="oNEW", at=AT + int(msg_id))
        )
        assert client.post(path, data=body).status_code == 200
    customer = db.session.scalars(select(Customer)).one()
    lead = db.session.get(Lead, customer.id)
    assert customer.owner_id == team["rep2"].id and lead.state == "owned"
    assert lead.first_inbound_at == datetime.fromtimestamp(AT + 1, UTC)
    assert lead.response_target_at == datetime.fromtimestamp(AT + 1 + 15 * 60, UTC)
    assert [n.staff_id for n in notices("lead-assigned")] == [team["rep2"].id]
    kinds = [e.kind for e in db.session.scalars(select(TimelineEvent).order_by(TimelineEvent.id))]
    assert kinds.count("lead_assign") == 1


def test_a_qr_scene_follow_goes_to_the_scenes_rule(client, team, rule):
    rule(name="兜底", position=50)
    rule(name="展会", position=1, reps=[team["rep4"]], source="mp_qr:expo2026")
    path, body = wxsign.mp_plain(mp_event("subscribe", "oQR", AT, EventKey="qrscene_expo2026"))
    assert client.post(path, data=body).status_code == 200
    customer = db.session.scalars(select(Customer)).one()
    assert customer.source_channel == "mp_qr:expo2026"
    assert customer.owner_id == team["rep4"].id


def test_a_known_customer_writing_again_is_no_new_lead(client, team, rule):
    rule()
    path, body = wxsign.mp_plain(mp_text("你好", "10", openid="oOLD", at=AT))
    client.post(path, data=body)
    path, body = wxsign.mp_plain(mp_text("在吗", "11", openid="oOLD", at=AT + 60))
    client.post(path, data=body)
    assert len(notices("lead-assigned")) == 1
