"""Shared by the callback tests: build a delivery, post it, count what was stored."""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.extensions import db
from app.models import CallbackEvent, Customer, TimelineEvent
from tests import wxsign

BUILD = {"plain": wxsign.mp_plain, "safe": wxsign.mp_safe}
MODES = sorted(BUILD)


def post(client, delivery: tuple[str, bytes]):
    path, body = delivery
    return client.post(path, data=body, content_type="text/xml")


def mp_text(content: str, msg_id: str = "5001", openid: str = "oCUST", at: int = 1700000000):
    """A text message as WeChat writes it (Content in CDATA)."""
    return (
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{at}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def mp_event(event: str, openid: str = "oCUST", at: int = 1700000000, **fields: str) -> str:
    extra = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
        f"</FromUserName><CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{extra}</xml>"
    )


def timeline(kind: str | None = None) -> list[TimelineEvent]:
    query = select(TimelineEvent).order_by(TimelineEvent.id)
    if kind:
        query = query.filter_by(kind=kind)
    return list(db.session.scalars(query))


def callback_events() -> list[CallbackEvent]:
    return list(db.session.scalars(select(CallbackEvent).order_by(CallbackEvent.id)))


def customers() -> list[Customer]:
    return list(db.session.scalars(select(Customer).order_by(Customer.id)))


def stored_rows() -> int:
    """Timeline events, kept callbacks and customers: what a refused callback must not add."""
    return sum(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (TimelineEvent, CallbackEvent, Customer)
    )
