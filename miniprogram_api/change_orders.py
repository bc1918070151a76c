"""在线调整预算: the homeowner approves or rejects a proposed change order."""

from __future__ import annotations

from flask import request

from app.core.extensions import db
from app.schemas.project_serializers import change_order_json
from app.schemas.validation import Form
from app.services.projects import change_orders, projects
from miniprogram_api import bp, current_homeowner


def _decide(order_id: int, approve: bool):
    homeowner = current_homeowner()
    order = change_orders.load_for_customer(homeowner.id, order_id)
    form = Form(request.get_json(silent=True) or {})
    reason = form.text("reason", "原因", required=False, max_len=500)
    form.done()
    change_orders.decide(order, homeowner, approve, reason)
    db.session.commit()
    return {"change_order": change_order_json(order), "budget": projects.budget(order.project)}


@bp.post("/change-orders/<int:order_id>/approve")
def approve_change_order(order_id: int):
    return _decide(order_id, True)


@bp.post("/change-orders/<int:order_id>/reject")
def reject_change_order(order_id: int):
    return _decide(order_id, False)
