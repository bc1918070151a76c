"""Outbox jobs: send a batch, the every-minute dispatch, the daily customer pass."""

from __future__ import annotations

import logging

from app.core.extensions import db
from app.models.types import utcnow
from app.services.notices import greetings, maintenance, notice_timing, outbox, outbox_send, tasks
from jobs.base import job

log = logging.getLogger(__name__)


@job
def send_notices(ids: list[int]) -> dict:
    """Send the notices of one batch (queue "outbound")."""
    return outbox_send.send_batch(ids)


@job
def dispatch_outbox() -> int:
    """Every minute: re-dispatch stuck rows, hand due rows to the outbound queue."""
    return outbox.dispatch_due()


@job
def daily_customer_pass() -> dict:
    """09:00 local: maintenance anniversaries, birthdays, dormant leads."""
    today, now = notice_timing.today(), utcnow()
    result = {
        "maintenance": maintenance.run_due(today, now),
        "birthdays": greetings.birthdays(today),
        "dormant_leads": tasks.dormant_leads(now),
    }
    db.session.commit()
    outbox.dispatch_due()  # the 09:00 notices go out now, not at the next minute tick
    log.info("daily customer pass", extra=result)
    return result
