"""Shapes of staff tasks: notices to send by hand, leads to wake up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.base import Out, Query
from app.schemas.customers import Named


class TaskQuery(Query):
    status: Literal["open", "done", "all"] = Field("open", title="状态 status")


class Task(Out):
    id: int
    kind: str
    title: str
    text: str
    status: Literal["open", "done"]
    customer: Named | None = None
    notice_id: int | None = None
    created_at: str | None = None
    done_at: str | None = None


class TaskList(Out):
    items: list[Task]
