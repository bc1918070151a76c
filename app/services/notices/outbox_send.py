"""Sending claimed notices: choose a channel, call WeChat, record what happened.

Claim: one `UPDATE … SET status='sending' WHERE id IN (…) AND status IN ('pending',
'queued') RETURNING id`, committed before any request leaves, so two workers never send
the same row. The requests of a batch run concurrently in threads (no database there);
results are applied and committed together.

At-least-once window: a worker killed after WeChat accepted a message but before the
batch's results were committed leaves its rows "sending"; the recovery pass sends them
again after NOTICE_STUCK_MINUTES. Template messages carry client_msg_id = the idempotency
key, so WeChat drops the second one; WeCom app messages use WeCom's duplicate check (same
text to the same member within 4 hours). Subscribe messages and customer-service messages
have no such id: there the customer may, rarely, get the same notice twice.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, select, text, update

from app.core.extensions import db
from app.models import Customer, CustomerIdentity, MessageConsent, Notice, Staff
from app.models.types import JSONType, UTCDateTime, utcnow
from app.services.customers import customers, timeline
from app.services.notices import channels, notice_templates, notice_timing, outbox, tasks
from app.services.notices.channels import Choice, Outcome

MAX_ROUNDS = len(channels.CUSTOMER_CHANNELS) + 1  # each refusal moves one channel down


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="notice-send")


def claim(ids: list[int], now: datetime) -> list[Notice]:
    """Take the rows still waiting; those another worker took are simply not returned."""
    claimed = db.session.scalars(
        update(Notice)
        .where(
            Notice.id.in_(ids), Notice.status.in_(("pending", "queued")), Notice.scheduled_at <= now
        )
        .values(status="sending", locked_at=now, attempts=Notice.attempts + 1)
        .returning(Notice.id),
        execution_options={"synchronize_session": False},
    ).all()
    db.session.commit()  # "sending" is durable before any request leaves
    if not claimed:
        return []
    return list(
        db.session.scalars(select(Notice).where(Notice.id.in_(claimed)).order_by(Notice.id))
    )


def send_batch(ids: list[int]) -> dict[str, int]:
    """Send the given notices (those still waiting); returns counts by final status."""
    now = utcnow()
    rows = claim(ids, now)
    people = _load_people(rows)
    todo = rows
    for _ in range(MAX_ROUNDS):
        plans = [p for p in (_plan(n, people, now) for n in todo) if p is not None]
        outcomes = _send_all(plans)
        todo = [
            n for (n, c), o in zip(plans, outcomes, strict=True) if _apply(n, c, o, people, now)
        ]
    _record_timeline(rows, people)
    db.session.commit()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def _load_people(rows: list[Notice]) -> dict:
    """Customers (followed through merges), their reach, and staff, in a few queries."""
    cids = {n.customer_id for n in rows if n.customer_id}
    found = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(cids)))}
    alive = {cid: customers.resolve(c) for cid, c in found.items()}
    sids = {n.staff_id for n in rows if n.staff_id}
    staff = {s.id: s for s in db.session.scalars(select(Staff).where(Staff.id.in_(sids)))}
    reach = channels.load_reach({c.id for c in alive.values()})
    return {"customers": alive, "staff": staff, "reach": reach}


def _plan(notice: Notice, people: dict, now: datetime) -> tuple[Notice, Choice] | None:
    """The channel for this round, or None when the notice is settled without a request."""
    customer = people["customers"].get(notice.customer_id)
    staff = people["staff"].get(notice.staff_id)
    if notice.audience == "customer" and not notice.urgent:
        opens = notice_timing.window_open(now)
        if opens > now:  # a retry or a late dispatch fell outside decent hours
            _reschedule(notice, opens, attempt=False)
            return None
    if notice.payload is None:  # created by a set-based pass: render on first send
        try:
            context = outbox.render_context(notice, customer, staff)
            notice.payload = notice_templates.render(notice.kind, context, current_app.config)
        except notice_templates.NoticeRenderError as exc:
            notice.status, notice.last_error = "failed", str(exc)[:2000]
            return None
    reach = people["reach"].get(customer.id) if customer else None
    choice = channels.choose(notice, reach, staff, now)
    notice.channel, notice.channel_reason = choice.channel, choice.reason[:500]
    if choice.channel == "task":
        _hand_to_task(notice, customer, staff)
        return None
    return notice, choice


def _send_all(plans: list[tuple[Notice, Choice]]) -> list[Outcome]:
    calls = []
    for _, choice in plans:
        try:
            calls.append((channels.client_for(choice.channel), choice))
        except Exception as exc:  # noqa: BLE001 - a channel that is not configured is refused
            calls.append((exc, choice))
    pool = _pool(max(1, current_app.config["NOTICE_SEND_THREADS"]))
    futures = [
        pool.submit(channels.call, client, c.channel, c.body)
        if not isinstance(client, Exception)
        else None
        for client, c in calls
    ]
    return [
        f.result() if f else channels.classify(client)
        for f, (client, _) in zip(futures, calls, strict=True)
    ]


def _apply(notice: Notice, choice: Choice, outcome: Outcome, people: dict, now: datetime) -> bool:
    """Record one result; True when the notice should try its next channel now."""
    if outcome.result == "ok":
        notice.status, notice.sent_at, notice.msgid = "sent", now, outcome.msgid or None
        notice.last_error = ""
        if choice.channel == "mini":
            _consume_consent(notice, choice, people)
        return False
    notice.last_error = outcome.error
    if outcome.result == "quota":
        _reschedule(notice, notice_timing.next_day_open(now), attempt=False)
    elif outcome.result == "retry":
        if notice.attempts >= current_app.config["NOTICE_MAX_ATTEMPTS"]:
            notice.status = "failed"
        else:
            _reschedule(notice, now + notice_timing.backoff(notice.attempts), attempt=True)
    else:
        notice.tried = [
            *(notice.tried or []),
            {"channel": choice.channel, "errcode": outcome.errcode, "error": outcome.error},
        ]
        _channel_refused(notice, choice, outcome, people)
        return True
    return False


def _reschedule(notice: Notice, when: datetime, attempt: bool) -> None:
    notice.status, notice.scheduled_at, notice.locked_at = "pending", when, None
    if not attempt:  # held by the clock or the quota: not a failed try
        notice.attempts = max(notice.attempts - 1, 0)


def _consume_consent(notice: Notice, choice: Choice, people: dict) -> None:
    """A one-time subscription is spent by the send that used it."""
    customer = people["customers"][notice.customer_id]
    template_id = choice.body["template_id"]
    db.session.execute(
        update(MessageConsent)
        .where(
            MessageConsent.customer_id == customer.id,
            MessageConsent.channel == "mini",
            MessageConsent.template_id == template_id,
            MessageConsent.remaining > 0,
        )
        .values(remaining=MessageConsent.remaining - 1),
        execution_options={"synchronize_session": False},
    )
    reach = people["reach"].get(customer.id)
    if reach is not None:
        reach.consents[template_id] = max(reach.consents.get(template_id, 1) - 1, 0)


def _channel_refused(notice: Notice, choice: Choice, outcome: Outcome, people: dict) -> None:
    """Learn from a refusal: no subscription left (43101), not a follower (43004)."""
    customer = people["customers"].get(notice.customer_id)
    if customer is None:
        return
    reach = people["reach"].get(customer.id)
    if outcome.errcode == 43101 and choice.channel == "mini":
        db.session.execute(
            update(MessageConsent)
            .where(
                MessageConsent.customer_id == customer.id,
                MessageConsent.channel == "mini",
                MessageConsent.template_id == choice.body["template_id"],
            )
            .values(remaining=0),
            execution_options={"synchronize_session": False},
        )
        if reach:
            reach.consents[choice.body["template_id"]] = 0
    elif outcome.errcode == 43004 and choice.channel == "mp":
        db.session.execute(
            update(CustomerIdentity)
            .where(
                CustomerIdentity.customer_id == customer.id,
                CustomerIdentity.kind == "mp_openid",
                CustomerIdentity.value == choice.body["touser"],
            )
            .values(subscribed=False),
            execution_options={"synchronize_session": False},
        )


def _hand_to_task(notice: Notice, customer: Customer | None, staff: Staff | None) -> None:
    """No channel left: the rep (or the staff member) sends it by hand from WeCom."""
    owner = customer.owner_id if customer is not None else (staff.id if staff else None)
    who = customer.display_name if customer is not None else "您"
    tasks.create(
        "notice",
        f"请通过企业微信发送给{who}：{notice.payload['title']}",
        staff_id=owner,
        customer_id=customer.id if customer else None,
        text=notice.payload["text"],
        notice_id=notice.id,
        dedupe_key=f"notice:{notice.id}",
    )
    notice.status, notice.last_error = "task", ""


_TIMELINE = text(
    f"{timeline.INSERT_EVENT} VALUES (:customer_id, :at, :kind, :channel, 'outbound', 'system',"
    " NULL, :payload, :key, false, :at) ON CONFLICT (dedupe_key) DO NOTHING"
).bindparams(bindparam("payload", type_=JSONType), bindparam("at", type_=UTCDateTime))
TIMELINE_CHANNELS = {"mini": "mini", "mp": "mp", "custom": "mp", "task": "wecom"}


def _record_timeline(rows: list[Notice], people: dict) -> None:
    """Each notice sent (or handed to the rep) is an event of the customer, once."""
    values = [
        {
            "customer_id": people["customers"][n.customer_id].id,
            "at": n.sent_at or utcnow(),
            "kind": "notice_sent" if n.status == "sent" else "notice_task",
            "channel": TIMELINE_CHANNELS[n.channel],
            "key": f"notice:{n.id}",
            "payload": {
                "notice_id": n.id,
                "kind": n.kind,
                "title": n.payload["title"],
                "text": n.payload["text"],
                "channel": n.channel,
            },
        }
        for n in rows
        if n.customer_id and n.status in ("sent", "task")
    ]
    if values:
        db.session.execute(_TIMELINE, values)
