"""Tasks of the signed-in staff member: notices to send by hand, leads to wake up."""

from __future__ import annotations

from app.api import bp, current_staff
from app.core.extensions import db
from app.models import Task as TaskRow
from app.schemas.serializers import iso
from app.schemas.spec import API, endpoint
from app.schemas.tasks import Task, TaskList, TaskQuery
from app.services.notices import tasks

TAG = "任务"


def task_json(task: TaskRow) -> dict:
    return {
        "id": task.id,
        "kind": task.kind,
        "title": task.title,
        "text": task.text,
        "status": task.status,
        "customer": {"id": task.customer.id, "name": task.customer.display_name}
        if task.customer
        else None,
        "notice_id": task.notice_id,
        "created_at": iso(task.created_at),
        "done_at": iso(task.done_at),
    }


@bp.get("/tasks")
@endpoint(API, query=TaskQuery, ok=TaskList, tag=TAG)
def list_tasks(query: TaskQuery):
    """我的任务：要手动发送的通知、需要跟进的潜在客户"""
    return {"items": [task_json(t) for t in tasks.for_staff(current_staff(), query.status)]}


@bp.post("/tasks/<int:task_id>/done")
@endpoint(API, ok=Task, errors=(404,), tag=TAG)
def complete_task(task_id: int):
    """把任务标记为已完成"""
    task = tasks.load_for_staff(current_staff(), task_id)
    tasks.complete(task)
    db.session.commit()
    return task_json(task)
