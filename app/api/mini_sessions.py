"""A homeowner's mini-program sessions (staff API): end them all (a lost phone, a wrong bind)."""

from __future__ import annotations

from app.api import bp, current_staff
from app.api.customers import load_customer
from app.core.extensions import db
from app.schemas.sessions import SessionsEnded
from app.schemas.spec import API, endpoint
from app.services.customers import mini_auth


@bp.post("/customers/<int:customer_id>/mini-sessions/revoke")
@endpoint(API, ok=SessionsEnded, errors=(404,), tag="客户")
def revoke_mini_sessions(customer_id: int):
    """让该客户在小程序中的所有登录立即失效（需重新登录）"""
    ended = mini_auth.revoke_sessions(load_customer(customer_id), current_staff())
    db.session.commit()
    return {"ended": ended}
