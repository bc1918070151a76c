"""GET/POST /wechat/mp: the official account (公众号) callback."""

from __future__ import annotations

from flask import Response, current_app, request

from app.core.database import commit
from app.core.queue import enqueue_batched
from app.services.inbound import callbacks, ingest
from handlers import bp


@bp.get("/mp")
def mp_verify():
    return Response(callbacks.verify_mp_url(request.args), mimetype="text/plain")


@bp.post("/mp")
def mp_receive():
    opened = callbacks.open_mp(request.args, request.get_data(cache=False))
    result = ingest.ingest_mp(current_app.config["WECHAT_MP_APPID"], opened.msg)
    if result.created and result.event_id is not None:
        enqueue_batched("jobs.ingest:enrich_events", result.event_id, queue="webhooks")
    commit()
    body = callbacks.mp_answer(opened, result.reply)
    return Response(body, mimetype="text/plain" if body == "success" else "application/xml")
