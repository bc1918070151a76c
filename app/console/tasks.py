"""My tasks: follow-ups due today and overdue, the outbox's notices to send by hand from
WeCom, dormant leads; mark done."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.console import bp, current_staff
from app.console.forms import ActionForm
from app.core.extensions import db
from app.models.types import utcnow
from app.services.notices import tasks as task_service
from app.services.sales import followups


@bp.get("/tasks")
def tasks():
    status = request.args.get("status", "open")
    status = status if status in ("open", "done") else "open"
    rows = task_service.for_staff(current_staff(), status)
    due = followups.due_for(current_staff()) if status == "open" else []
    return render_template(
        "console/tasks.html", rows=rows, status=status, form=ActionForm(), due=due, now=utcnow()
    )


@bp.post("/tasks/<int:task_id>/done")
def task_done(task_id: int):
    task_service.complete_for(current_staff(), task_id)
    db.session.commit()
    flash("任务已完成", "ok")
    return redirect(url_for("console.tasks"))
