"""The homeowner opens a trace code in the mini program: the scan page's content as JSON,
and the scan recorded as theirs (a timeline event)."""

from __future__ import annotations

from flask import request

from app.core.errors import NotFound
from app.core.extensions import db
from app.schemas.spec import MINI, endpoint
from app.schemas.trace import TraceOut, trace_json
from app.services.trace import clients, codes, scans
from miniprogram_api import bp, current_homeowner


@bp.get("/trace/<string(maxLength=64):code>")
@endpoint(MINI, ok=TraceOut, errors=(404, 429), tag="材料溯源")
def open_trace(code: str):
    """查询溯源码：材料、品牌、批次、质检结果、进场小区、查询次数"""
    homeowner = current_homeowner()
    client = clients.mini(f"customer:{homeowner.id}", request.headers.get("User-Agent", ""))
    view = scans.visit_mini(code, client, homeowner)
    if view is None:
        raise NotFound(codes.NOT_ISSUED)
    db.session.commit()
    return trace_json(view)
