"""Tasks of the signed-in staff member: notices to send by hand, leads to wake up."""

from __future__ import annotations

from flask import request

from app.api import bp, current_staff
from app.core.errors import ApiError
from app.core.extensions import db
from app.models import Task
from app.schemas.serializers import iso
from app.services.notices import tasks


def task_json(task: Task) -> dict:
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
def list_tasks():
    status = request.args.get("status", "open")
    if status not in ("open", "done", "all"):
        raise ApiError(400, "bad_query", "status 只能是 open、done 或 all")
    return {"items": [task_json(t) for t in tasks.for_staff(current_staff(), status)]}


@bp.post("/tasks/<int:task_id>/done")
def complete_task(task_id: int):
    task = db.session.get(Task, task_id)
    if task is None or task.staff_id != current_staff().id:
        raise ApiError(404, "not_found", "任务不存在")
    tasks.complete(task)
    db.session.commit()
    return task_json(task)
