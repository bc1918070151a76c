"""在线调整预算: the homeowner approves or rejects a proposed change order."""

from __future__ import annotations

from app.core.extensions import db
from app.schemas.project_serializers import change_order_json
from app.schemas.projects import Decision, DecisionIn
from app.schemas.spec import MINI, endpoint
from app.services.projects import change_orders, projects
from miniprogram_api import bp, current_homeowner


def _decide(order_id: int, approve: bool, reason: str | None):
    homeowner = current_homeowner()
    order = change_orders.load_for_customer(homeowner.id, order_id)
    change_orders.decide(order, homeowner, approve, reason or "")
    db.session.commit()
    return {"change_order": change_order_json(order), "budget": projects.budget(order.project)}


@bp.post("/change-orders/<int:order_id>/approve")
@endpoint(MINI, json=DecisionIn, ok=Decision, errors=(403, 404, 409), tag="预算调整")
def approve_change_order(order_id: int, json: DecisionIn):
    """同意预算调整"""
    return _decide(order_id, True, json.reason)


@bp.post("/change-orders/<int:order_id>/reject")
@endpoint(MINI, json=DecisionIn, ok=Decision, errors=(403, 404, 409), tag="预算调整")
def reject_change_order(order_id: int, json: DecisionIn):
    """拒绝预算调整"""
    return _decide(order_id, False, json.reason)
