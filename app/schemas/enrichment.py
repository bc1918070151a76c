"""Shapes of the enrichment backlog as admins see it (GET /api/v1/enrichment/failures)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.schemas.base import Id, Integer, Out, Shape


class FailuresQuery(Shape):
    parked: bool | None = Field(None, title="是否已搁置 parked")
    before: Id | None = Field(None, title="游标 before")
    limit: Integer(1, 100, title="每页条数 limit") = 50


class EnrichmentFailure(Out):
    event_id: int
    customer_id: int
    kind: str
    channel: str
    occurred_at: datetime
    attempts: int
    reason: str
    first_failed_at: datetime | None = None
    last_failed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    parked: bool
    parked_at: datetime | None = None


class FailurePage(Out):
    items: list[EnrichmentFailure]
    next_cursor: str | None = None
