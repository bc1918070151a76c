"""POST /mini/v1/subscriptions: what wx.requestSubscribeMessage answered, per template."""

from __future__ import annotations

from app.core.extensions import db
from app.schemas.mini import Subscriptions, SubscriptionsIn
from app.schemas.spec import MINI, endpoint
from app.services.notices import consents
from miniprogram_api import bp, current_homeowner


@bp.post("/subscriptions")
@endpoint(MINI, json=SubscriptionsIn, ok=Subscriptions, tag="订阅消息")
def record_subscriptions(json: SubscriptionsIn):
    """记录订阅消息授权结果"""
    rows = consents.record(current_homeowner(), json.results)
    db.session.commit()
    items = [
        {"template_id": r.template_id, "status": r.status, "remaining": r.remaining} for r in rows
    ]
    return {"items": items}
