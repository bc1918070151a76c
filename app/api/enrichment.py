"""The enrichment backlog for admins: events whose enrichment failed, and why."""

from __future__ import annotations

from app.api import bp, roles
from app.schemas.enrichment import FailurePage, FailuresQuery
from app.schemas.pagination import page_body
from app.schemas.serializers import iso
from app.schemas.spec import API, endpoint
from app.services.inbound import backlog


def _failure_json(state) -> dict:
    event = state.event
    return {
        "event_id": state.event_id,
        "customer_id": event.customer_id,
        "kind": event.kind,
        "channel": event.channel,
        "occurred_at": iso(event.occurred_at),
        "attempts": state.attempts,
        "reason": state.reason,
        "first_failed_at": iso(state.first_failed_at),
        "last_failed_at": iso(state.last_failed_at),
        "next_attempt_at": iso(state.next_attempt_at),
        "parked": state.parked_at is not None,
        "parked_at": iso(state.parked_at),
    }


@bp.get("/enrichment/failures")
@endpoint(
    API,
    query=FailuresQuery,
    ok=FailurePage,
    allow=roles("admin", message="只有管理员可以查看"),
    tag="消息补全",
)
def enrichment_failures(query: FailuresQuery):
    """补全失败的消息（重试中与已搁置），新的在前；已搁置的用 flask enrichment retry 重新处理"""
    rows = backlog.failures(query.parked, query.before, query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return page_body([_failure_json(s) for s in rows], str(rows[-1].event_id) if more else None)
