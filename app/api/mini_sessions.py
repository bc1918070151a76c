"""A homeowner's mini-program sessions (staff API): end them all (a lost phone, a wrong bind)."""

from __future__ import annotations

from app.api import bp, current_staff
from app.core.extensions import db
from app.schemas.sessions import SessionsEnded
from app.schemas.spec import API, endpoint
from app.services.customers import customers, mini_auth


@bp.post("/customers/<int:customer_id>/mini-sessions/revoke")
@endpoint(API, ok=SessionsEnded, errors=(404,), tag="客户")
def revoke_mini_sessions(customer_id: int):
    """让该客户在小程序中的所有登录立即失效（需重新登录）"""
    staff = current_staff()
    ended = mini_auth.revoke_sessions(customers.load_for_staff(staff, customer_id), staff)
    db.session.commit()
    return {"ended": ended}
