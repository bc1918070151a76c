"""My tasks: the outbox's notices to send by hand from WeCom, dormant leads; mark done."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.console import bp, current_staff
from app.console.forms import ActionForm
from app.core.extensions import db
from app.services.notices import tasks as task_service


@bp.get("/tasks")
def tasks():
    status = request.args.get("status", "open")
    status = status if status in ("open", "done") else "open"
    rows = task_service.for_staff(current_staff(), status)
    return render_template("console/tasks.html", rows=rows, status=status, form=ActionForm())


@bp.post("/tasks/<int:task_id>/done")
def task_done(task_id: int):
    task_service.complete_for(current_staff(), task_id)
    db.session.commit()
    flash("任务已完成", "ok")
    return redirect(url_for("console.tasks"))
