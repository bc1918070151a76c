"""The notice outbox: every notice is a row first, then RQ jobs send it.

    outbox.notify_customer("node-accepted", customer, "node:12", project_name=…, node=…)
    outbox.notify_staff("node-delayed", pm, "node:12:2026-11-22", project_name=…, …)

A notice's idempotency key is `kind:subject` for customers (a subject such as `project:7`
belongs to one customer) and `kind:subject:staff:<id>` for staff, so creating the same
notice again returns the stored row. The every-minute `dispatch_due` hands due rows to the
"outbound" queue in batches and re-dispatches rows whose worker died (see outbox_send).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import make_transient_to_detached

from app.core import batch, prebuilt, queue
from app.core.database import insert_new_statement
from app.core.extensions import db
from app.models import Customer, Notice, Staff
from app.models.types import utcnow
from app.services.notices import notice_templates, notice_timing

log = logging.getLogger(__name__)
DISPATCH_LIMIT = 20000  # rows handed to the queue per minute pass


def find(idem_key: str) -> Notice | None:
    return db.session.scalars(select(Notice).filter_by(idem_key=idem_key)).first()


def _schedule(tpl, customer: Customer | None, when: datetime, urgent: bool) -> datetime:
    """Customer notices wait for decent hours (unless urgent) and the marketing cap."""
    if tpl.audience != "customer" or urgent:
        return when
    when = notice_timing.window_open(when)
    if tpl.marketing:
        when = notice_timing.window_open(notice_timing.marketing_slot(customer.id, when))
    return when


def create(
    kind: str,
    subject: str,
    *,
    customer: Customer | None = None,
    staff: Staff | None = None,
    context: dict | None = None,
    at: datetime | None = None,
    urgent: bool | None = None,
    batched: bool = False,
) -> Notice:
    """The notice row (rendered now: a bad template fails here), or the existing one (the
    insert, one statement, finds the key taken). A due one is handed to the send job after
    the commit: its own RQ job, or with `batched` the batched hand-off (queue.enqueue_batched:
    one RPUSH for the notices of many transactions, for the busiest kinds; a hand-off lost
    with its process leaves the row "queued", and recover_stuck sends it)."""
    tpl = notice_templates.load(kind)
    key = f"{kind}:{subject}" + (f":staff:{staff.id}" if tpl.audience == "staff" else "")
    urgent = tpl.urgent if urgent is None else urgent
    now = utcnow()
    values = {
        **_DEFAULTS,
        "kind": kind,
        "audience": tpl.audience,
        "idem_key": key,
        "urgent": urgent,
        "marketing": tpl.marketing,
        "context": context or {},
        "customer_id": customer.id if customer else None,
        "staff_id": staff.id if staff else None,
        "created_at": now,
    }
    values["payload"] = notice_templates.render(
        kind, _context(values["context"], customer, staff), current_app.config
    )
    values["scheduled_at"] = _schedule(tpl, customer, at or now, urgent)
    due = values["scheduled_at"] <= now
    if due:  # straight to the queue; the minute pass handles the later ones
        values["status"], values["locked_at"] = "queued", now
    rows = prebuilt.execute(_INSERT_NEW, values)
    if not rows:  # a concurrent twin won
        return find(key)
    notice = Notice(id=rows[0][0], **values)
    make_transient_to_detached(notice)
    db.session.add(notice)
    if due and batched:
        queue.enqueue_batched(SEND_JOB, notice.id, queue="outbound")
    elif due:
        _enqueue([notice.id])
    return notice


# Every column but id, for the one-statement insert (it applies no Python-side defaults).
_DEFAULTS = {
    "channel": "",
    "channel_reason": "",
    "tried": [],
    "status": "pending",
    "attempts": 0,
    "last_error": "",
    "msgid": None,
    "delivery": "",
    "locked_at": None,
    "sent_at": None,
}
_INSERT_NEW = prebuilt.Statement(
    insert_new_statement(
        Notice.__table__,
        (
            "kind",
            "audience",
            "idem_key",
            "urgent",
            "marketing",
            "context",
            "payload",
            "customer_id",
            "staff_id",
            "scheduled_at",
            "created_at",
            *_DEFAULTS,
        ),
        ("idem_key",),
    )
)


def notify_customer(
    kind: str, customer: Customer, subject: str, *, batched: bool = False, **context
) -> Notice:
    return create(kind, subject, customer=customer, context=context, batched=batched)


def notify_staff(kind: str, staff: Staff, subject: str, **context) -> Notice:
    """A staff alert (never held by quiet hours): WeCom app message, else a task."""
    return create(kind, subject, staff=staff, context=context)


def render_context(notice: Notice, customer: Customer | None, staff: Staff | None) -> dict:
    return _context(notice.context, customer, staff)


def _context(context: dict | None, customer: Customer | None, staff: Staff | None) -> dict:
    base = {"base_url": current_app.config.get("PUBLIC_BASE_URL", "")}
    if customer is not None:
        base.update(customer_name=customer.display_name, customer_id=customer.id)
    if staff is not None:
        base.update(staff_name=staff.name)
    return {**base, **(context or {})}


SEND_JOB = "jobs.notices:send_notices"


def _enqueue(ids: list[int]) -> None:
    queue.enqueue(SEND_JOB, ids, queue="outbound")


def recover_stuck(now: datetime | None = None, older_than: timedelta | None = None) -> int:
    """Rows left "sending" (worker killed) or "queued" (job lost) go back to pending."""
    now = now or utcnow()
    age = (
        older_than
        if older_than is not None
        else timedelta(minutes=current_app.config["NOTICE_STUCK_MINUTES"])
    )
    stuck = (Notice.status.in_(("sending", "queued")), Notice.locked_at < now - age)
    too_many = Notice.attempts >= current_app.config["NOTICE_MAX_ATTEMPTS"]
    opts = {"synchronize_session": False}
    db.session.execute(
        update(Notice)
        .where(*stuck, too_many)
        .values(status="failed", last_error="发送中断次数过多（worker 多次中止）"),
        execution_options=opts,
    )
    ids = db.session.scalars(
        update(Notice).where(*stuck).values(status="pending").returning(Notice.id),
        execution_options=opts,
    ).all()
    if ids:
        log.warning("re-dispatching stuck notices", extra={"count": len(ids)})
    return len(ids)


def dispatch_due(now: datetime | None = None, limit: int = DISPATCH_LIMIT) -> int:
    """Recover stuck rows, then mark due rows queued and enqueue them in batches."""
    now = now or utcnow()
    recover_stuck(now)
    batch.kick(SEND_JOB, "outbound")  # a wake-up lost between a batched push and its drain
    due = (
        select(Notice.id)
        .where(Notice.status == "pending", Notice.scheduled_at <= now)
        .order_by(Notice.scheduled_at)
        .limit(limit)
    )
    ids = db.session.scalars(
        update(Notice)
        .where(Notice.id.in_(due.scalar_subquery()))
        .values(status="queued", locked_at=now)
        .returning(Notice.id),
        execution_options={"synchronize_session": False},
    ).all()
    ids.sort()
    size = max(1, current_app.config["NOTICE_BATCH"])
    for start in range(0, len(ids), size):
        _enqueue(ids[start : start + size])
    db.session.commit()  # the jobs are handed to the queue on commit
    return len(ids)


def on_delivery(msgid: str, status: str, msg: dict) -> None:
    """TEMPLATESENDJOBFINISH / subscribe_msg_sent_event: delivered, or failed and why."""
    if not msgid:
        return
    channel = "mp" if msg.get("Event") == "TEMPLATESENDJOBFINISH" else "mini"
    db.session.execute(
        update(Notice)
        .where(
            Notice.msgid == str(msgid),
            Notice.channel == channel,
            Notice.status.in_(("sent", "delivered", "failed")),
        )
        .values(status="delivered" if status == "success" else "failed", delivery=status[:40]),
        execution_options={"synchronize_session": False},
    )


def on_merge(source_id: int, target_id: int) -> None:
    """Two customers merged: their notices, tasks, plans and tickets follow."""
    from app.models import MaintenancePlan, ServiceTicket, Task

    for model in (Notice, Task, MaintenancePlan, ServiceTicket):
        db.session.execute(
            update(model).where(model.customer_id == source_id).values(customer_id=target_id),
            execution_options={"synchronize_session": False},
        )
