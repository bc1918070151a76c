"""GET/POST /wechat/work: the WeCom app and customer-contact (客户联系) callback."""

from __future__ import annotations

from flask import Response, current_app, request

from app.core.extensions import db
from app.core.queue import enqueue_batched
from app.services.inbound import callbacks, ingest
from handlers import bp


@bp.get("/work")
def work_verify():
    # The body is the plaintext echostr only: no quotes, no BOM, no newline.
    return Response(callbacks.verify_wecom_url(request.args), mimetype="text/plain")


@bp.post("/work")
def work_receive():
    opened = callbacks.open_wecom(request.args, request.get_data(cache=False))
    result = ingest.ingest_wecom(current_app.config["WECOM_CORP_ID"], opened.msg)
    if result.created and result.event_id is not None:
        enqueue_batched("jobs.ingest:enrich_events", result.event_id, queue="webhooks")
    db.session.commit()
    return Response("", status=200)  # WeCom: an empty 200 means "received, no reply"
