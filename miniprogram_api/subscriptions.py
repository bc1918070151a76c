"""POST /mini/v1/subscriptions: what wx.requestSubscribeMessage answered, per template."""

from __future__ import annotations

from app.core.extensions import db
from app.schemas.validation import Form, clean, json_body
from app.services.notices import consents
from miniprogram_api import bp, current_homeowner

MAX_TEMPLATES = 20


@bp.post("/subscriptions")
def record_subscriptions():
    form = Form(json_body())
    results = form.data.get("results")
    ok = (
        isinstance(results, dict)
        and 0 < len(results) <= MAX_TEMPLATES
        and all(isinstance(k, str) and clean(k) and len(k) <= 128 for k in results)
        and all(v in consents.STATUSES for v in results.values())
    )
    if not ok:
        form.fail("results", "results 必须是 {模板ID: accept/reject/ban/filter}，最多 20 个")
    form.done()
    rows = consents.record(current_homeowner(), results)
    db.session.commit()
    return {
        "items": [
            {"template_id": r.template_id, "status": r.status, "remaining": r.remaining}
            for r in rows
        ]
    }
