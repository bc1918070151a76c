"""Site work from a phone: my projects, a project's nodes, logs, QC reports, 待验收,
rectifications and change orders (the projects services and rules of the staff API)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.console import bp, current_staff
from app.console import forms as f
from app.core.errors import DomainError, Forbidden, NotFound
from app.core.extensions import db
from app.schemas.errors import status_of
from app.schemas.uploads import body_limit, store_all
from app.services.desk import site, submissions
from app.services.projects import change_orders, nodes, progress, projects


@bp.get("/projects", endpoint="projects")
def my_projects():
    return render_template("console/projects.html", rows=site.my_projects(current_staff()))


def _forms(page: site.SitePage) -> dict:
    choices = f.options([(0, "（不指定节点）")] + [(n.id, n.name) for n in page.nodes])
    blank = {"formdata": None}
    log = f.LogForm(nonce=submissions.new_nonce(), **blank)
    report = f.ReportForm(nonce=submissions.new_nonce(), **blank)
    log.node_id.choices = report.node_id.choices = choices
    current = next((n.id for n in page.nodes if n.status in ("in_progress", "rectifying")), 0)
    log.node_id.data = report.node_id.data = current
    return {
        "log": log,
        "report": report,
        "rectify": f.RectifyForm(**blank),
        "order": f.ChangeOrderForm(nonce=submissions.new_nonce(), **blank),
        "action": f.ActionForm(**blank),
    }


def _render(project, forms=None, status=200, message=""):
    staff = current_staff()
    page = site.page(staff, project, request.args.get("before") or None)
    all_forms = _forms(page)
    for name, form in (forms or {}).items():
        if hasattr(form, "node_id"):
            form.node_id.choices = all_forms[name].node_id.choices
        all_forms[name] = form
    roles = {
        "site": staff.has_role(*site.SITE_ROLES),
        "report": staff.has_role(*site.REPORT_ROLES),
        "change": staff.has_role(*site.CHANGE_ROLES),
    }
    return render_template(
        "console/project.html", page=page, forms=all_forms, can=roles, message=message
    ), status


@bp.get("/projects/<int:project_id>")
def project(project_id: int):
    return _render(projects.load_for_staff(current_staff(), project_id))


def _files(name: str) -> list[bytes]:
    return [x.read() for x in request.files.getlist(name) if x and x.filename]


def _act(project_id: int, roles, form_class, name: str, action, message: str):
    """Validate, call the projects service, commit; or the page again with field messages."""
    staff = current_staff()
    if not staff.has_role(*roles):
        raise Forbidden("你的岗位不能进行此操作")
    project = projects.load_for_staff(staff, project_id)
    form = form_class()
    if hasattr(form, "node_id"):
        form.node_id.choices = f.options([(0, "")] + [(n.id, n.name) for n in project.nodes])
    if form.validate_on_submit():
        if isinstance(form, f.OnceForm) and not submissions.claim(staff, form.nonce.data, name):
            flash(f.REPLAYED, "ok")
            return redirect(url_for("console.project", project_id=project.id))
        try:
            action(staff, project, form)
        except (NotFound, Forbidden):
            raise  # the page's own answer (404, 403)
        except DomainError as exc:
            db.session.rollback()
            status = status_of(exc)
            f.apply_errors(form, exc.fields, "" if exc.fields else exc.message)
            return _render(project, {name: form}, status, "" if exc.fields else exc.message)
        db.session.commit()
        flash(message, "ok")
        return redirect(url_for("console.project", project_id=project.id))
    return _render(project, {name: form}, 400, f.unshown_errors(form, name))


@bp.post("/projects/<int:project_id>/logs")
def post_log(project_id: int):
    request.max_content_length = body_limit()  # up to 9 photos

    def action(staff, project, form):
        photos = store_all({"photos": _files("photos")})["photos"]
        progress.post_log(project, staff, form.node_id.data or None, form.text.data.strip(), photos)

    return _act(project_id, site.SITE_ROLES, f.LogForm, "log", action, "施工日志已发布")


@bp.post("/projects/<int:project_id>/reports")
def post_report(project_id: int):
    request.max_content_length = body_limit()  # up to 9 photos

    def action(staff, project, form):
        finding = {"text": form.finding.data.strip(), "hazard": form.hazard.data}
        photo = _files("photo")[:1]
        if photo:
            finding["photo"] = store_all({"photo": photo})["photo"][0]
        text = (form.text.data or "").strip()
        progress.post_report(project, staff, form.node_id.data or None, text, [finding])

    return _act(project_id, site.REPORT_ROLES, f.ReportForm, "report", action, "巡检报告已发布")


@bp.post("/projects/<int:project_id>/nodes/<int:node_id>")
def move_node(project_id: int, node_id: int):
    def action(staff, project, form):
        node = nodes.load(project, node_id)
        nodes.update_node(node, staff, {"status": request.form.get("status", "")})

    return _act(project_id, site.SITE_ROLES, f.NodeForm, "action", action, "节点状态已更新")


@bp.post("/projects/<int:project_id>/nodes/<int:node_id>/rectified")
def close_rectification(project_id: int, node_id: int):
    def action(staff, project, form):
        node = nodes.load(project, node_id)
        nodes.close_rectification(node, staff, (form.note.data or "").strip())

    return _act(
        project_id, site.SITE_ROLES, f.RectifyForm, "rectify", action, "整改已完成，等待业主验收"
    )


@bp.post("/projects/<int:project_id>/change-orders")
def propose_change_order(project_id: int):
    def action(staff, project, form):
        change_orders.propose(project, staff, form.item.data.strip(), form.amount.fen)

    return _act(
        project_id,
        site.CHANGE_ROLES,
        f.ChangeOrderForm,
        "order",
        action,
        "预算调整已提交，等待业主确认",
    )
