"""Tasks for staff: notices no channel could carry, dormant leads to wake up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.core.database import insert_once, load_row
from app.core.errors import NotFound
from app.core.extensions import db
from app.models import Customer, Staff, Task, TimelineEvent
from app.models.types import utcnow

DORMANT_AFTER = timedelta(days=30)


def create(
    kind: str,
    title: str,
    *,
    staff_id: int | None,
    customer_id: int | None = None,
    text: str = "",
    notice_id: int | None = None,
    dedupe_key: str | None = None,
) -> Task:
    """A task; with a dedupe key, the existing one when it was already created."""
    if dedupe_key:
        existing = db.session.scalars(select(Task).filter_by(dedupe_key=dedupe_key)).first()
        if existing is not None:
            return existing
    task = Task(
        kind=kind,
        title=title[:200],
        staff_id=staff_id,
        customer_id=customer_id,
        text=text,
        notice_id=notice_id,
        dedupe_key=dedupe_key,
    )
    if not insert_once(task):
        return db.session.scalars(select(Task).filter_by(dedupe_key=dedupe_key)).one()
    return task


def for_staff(staff: Staff, status: str = "open", limit: int = 100) -> list[Task]:
    query = select(Task).where(Task.staff_id == staff.id)
    if status != "all":
        query = query.where(Task.status == status)
    return list(
        db.session.scalars(query.order_by(Task.created_at.desc(), Task.id.desc()).limit(limit))
    )


def load_for_staff(staff: Staff, task_id: int) -> Task:
    """One of `staff`'s own tasks; NotFound for anyone else's."""
    return load_row(Task, task_id, Task.staff_id == staff.id, missing="任务不存在")


def complete(task: Task) -> None:
    task.status, task.done_at = "done", utcnow()


def dormant_leads(now: datetime | None = None) -> int:
    """A task for the rep of each lead silent for 30 days: once per dormancy (the key names
    the last activity, so a lead that wakes up and falls silent again gets a new one)."""
    now = now or utcnow()
    last = func.coalesce(func.max(TimelineEvent.occurred_at), Customer.created_at)
    rows = db.session.execute(
        select(Customer.id, Customer.owner_id, Customer.name, Customer.nickname, last.label("last"))
        .outerjoin(TimelineEvent, TimelineEvent.customer_id == Customer.id)
        .where(Customer.stage == "lead", Customer.merged_into_id.is_(None))
        .group_by(Customer.id)
        .having(last < now - DORMANT_AFTER)
    ).all()
    for row in rows:
        last_at = (
            row.last if isinstance(row.last, datetime) else datetime.fromisoformat(str(row.last))
        )
        name = row.name or row.nickname or f"客户{row.id}"
        days = (now.replace(tzinfo=None) - last_at.replace(tzinfo=None)).days
        create(
            "dormant_lead",
            f"潜在客户{name}已{days}天无互动，请跟进",
            staff_id=row.owner_id,
            customer_id=row.id,
            text=f"{name}您好，最近装修的事考虑得怎么样了？有任何问题随时找我，可以先帮您免费量房出方案。",
            dedupe_key=f"dormant-lead:customer:{row.id}:{last_at:%Y%m%d%H%M%S}",
        )
    return len(rows)


def complete_for(staff: Staff, task_id: int) -> Task:
    """Mark one of `staff`'s own tasks done; NotFound for anyone else's."""
    task = db.session.get(Task, task_id) if 0 < task_id < 2**31 else None
    if task is None or task.staff_id != staff.id:
        raise NotFound("任务不存在")
    if task.status != "done":
        complete(task)
    return task
