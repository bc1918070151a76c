"""Sales pages: follow-ups logged on the customer page, the lead pool (公海) with claim
buttons, and the assignment rules with reps' availability (admins and managers)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.console import bp, current_staff, roles_required
from app.console import forms as f
from app.console.customers import _act
from app.core.database import load_row
from app.core.errors import Conflict, Invalid, NotFound, RateLimited
from app.core.extensions import db
from app.models import Staff
from app.services.customers import staff as staff_service
from app.services.sales import followups, pool, rules

EDITORS = ("admin", "manager")


@bp.post("/customers/<int:customer_id>/followups")
def log_followup(customer_id: int):
    def action(staff, customer, form):
        data = followups.FollowUpIn(
            form.method.data,
            form.content.data or "",
            form.result.data or "",
            followups.aware(form.next_at.data),
        )
        followups.log(staff, customer, data)

    return _act(customer_id, f.FollowUpForm, "followup", action, "跟进已记录", "#followups")


@bp.get("/pool")
def lead_pool():
    listing = pool.listing(current_staff())
    return render_template("console/pool.html", listing=listing, form=f.ActionForm())


@bp.post("/pool/<int:customer_id>/claim")
def claim(customer_id: int):
    try:
        pool.claim(current_staff(), customer_id)
    except (Conflict, RateLimited, NotFound) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console.lead_pool"))
    db.session.commit()
    flash("领取成功，客户已归你跟进", "ok")
    return redirect(url_for("console.customer", customer_id=customer_id))


def _choices(form: f.AssignRuleForm) -> f.AssignRuleForm:
    form.store_id.choices = f.options(
        [(0, "（不限）")] + [(s.id, s.name) for s in staff_service.stores()]
    )
    form.rep_ids.choices = f.options(
        [(s.id, f"{s.name}（{s.store.name if s.store else '无门店'}）") for s, _ in rules.reps()]
    )
    return form


def _rule_data(form: f.AssignRuleForm) -> dict:
    tags = [t.strip() for t in (form.tags.data or "").replace("，", ",").split(",") if t.strip()]
    return {
        "name": form.name.data,
        "position": form.position.data if form.position.data is not None else 100,
        "store_id": form.store_id.data or None,
        "city": form.city.data or "",
        "region": form.region.data or "",
        "source": form.source.data or "",
        "tags": tags,
        "rep_ids": list(form.rep_ids.data or []),
        "active": bool(form.active.data),
    }


def _rules_page(form=None, status=200, rule=None):
    names = {s.id: s.name for s, _ in rules.reps()}
    return render_template(
        "console/assign_rules.html",
        rows=rules.all_rules(),
        form=_choices(form or f.AssignRuleForm(formdata=None)),
        reps=rules.reps(),
        names=names,
        rule=rule,
        rep_form=f.SalesRepForm(formdata=None),
    ), status


def _save(rule):
    form = _choices(f.AssignRuleForm())
    if form.validate_on_submit():
        try:
            rules.save(rule, _rule_data(form), current_staff())
        except Invalid as exc:
            db.session.rollback()
            f.apply_errors(form, exc.fields, exc.message)
            return _rules_page(form, 400, rule)
        db.session.commit()
        flash("分配规则已保存", "ok")
        return redirect(url_for("console.assign_rules"))
    return _rules_page(form, 400, rule)


@bp.route("/admin/assign-rules", methods=["GET", "POST"])
@roles_required(*EDITORS)
def assign_rules():
    return _rules_page() if request.method == "GET" else _save(None)


@bp.route("/admin/assign-rules/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def assign_rule(rule_id: int):
    rule = rules.load(rule_id)
    if request.method == "POST":
        return _save(rule)
    data = rules.snapshot(rule) | {"tags": ", ".join(rule.tags or ())}
    form = f.AssignRuleForm(formdata=None, **data)
    form.store_id.data = rule.store_id or 0
    return _rules_page(form, 200, rule)


@bp.post("/admin/sales-reps/<int:staff_id>")
@roles_required(*EDITORS)
def sales_rep(staff_id: int):
    member = load_row(Staff, staff_id, missing="员工不存在")
    form = f.SalesRepForm()
    if not form.validate_on_submit():
        flash("每日上限须为 0 到 10000 的整数", "error")
        return redirect(url_for("console.assign_rules"))
    rules.set_rep(member, current_staff(), off=bool(form.off.data), daily_cap=form.daily_cap.data)
    db.session.commit()
    flash(f"{member.name} 的接单状态已保存", "ok")
    return redirect(url_for("console.assign_rules") + "#reps")
