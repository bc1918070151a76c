"""预约量房 / 获取报价: the mini program's lead form (the signed-in homeowner)."""

from __future__ import annotations

from app.core.extensions import db
from app.schemas.sales import LeadIn, LeadOut
from app.schemas.spec import MINI, endpoint
from app.services.sales import capture
from miniprogram_api import bp, current_homeowner


@bp.post("/leads")
@endpoint(MINI, json=LeadIn, ok=LeadOut, status=201, errors=(502,), tag="留资")
def submit_lead(json: LeadIn):
    """提交预约量房或获取报价（同一客户几分钟内重复提交算一次）"""
    form = capture.LeadForm(**json.model_dump(exclude={"phone_code"}))
    found = capture.from_mini(current_homeowner(), form, phone_code=json.phone_code)
    db.session.commit()
    return {"customer_id": found.customer.id, "duplicate": found.duplicate}, 201
