"""Admin and manager pages: staff, tag rules, auto-replies and the node template, over the
services the staff API uses; validation messages next to each field."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.console import bp, current_staff, roles_required
from app.console import forms as f
from app.core.errors import Invalid
from app.core.extensions import db
from app.models import Staff
from app.services.customers import sign_in
from app.services.customers import staff as staff_service
from app.services.inbound import reply_rules
from app.services.projects import node_templates
from app.services.tagging import tag_rules
from app.tagging.taxonomy import TAXONOMY

EDITORS = ("admin", "manager")


def _saved(message: str, endpoint: str, **values):
    db.session.commit()
    flash(message, "ok")
    return redirect(url_for(endpoint, **values))


def _store_choices(actor: Staff) -> list:
    stores = [(s.name, s.name) for s in staff_service.stores()]
    if actor.has_role("admin"):
        return f.options([("", "（无门店）")] + stores)
    return f.options([(actor.store.name, actor.store.name)] if actor.store else [])


# ---- staff


def _staff_page(create=None, status=200):
    actor = current_staff()
    create = create or f.StaffForm(formdata=None)
    create.store.choices = _store_choices(actor)
    members = staff_service.managed_staff(actor)
    return render_template("console/staff.html", members=members, form=create), status


@bp.route("/admin/staff", methods=["GET", "POST"])
@roles_required(*EDITORS)
def staff():
    if request.method == "GET":
        return _staff_page()
    actor, form = current_staff(), f.StaffForm()
    form.store.choices = _store_choices(actor)
    if _valid_with_roles(form):
        try:
            member = _create_staff(actor, form)
        except Invalid as exc:
            db.session.rollback()
            f.apply_errors(form, exc.fields, exc.message)
            return _staff_page(form, 400)
        return _saved(f"已创建员工 {member.name}", "console.staff")
    return _staff_page(form, 400)


def _valid_with_roles(form) -> bool:
    valid = form.validate_on_submit()
    if not form.roles.data:
        form.roles.errors = [*form.roles.errors, "请至少选择一个角色"]
    return valid and bool(form.roles.data)


def _create_staff(actor: Staff, form: f.StaffForm) -> Staff:
    probe = Staff(name=form.name.data.strip())
    sign_in.check_new_password(probe, form.password.data, form.password.data, "password")
    fields = {
        "name": form.name.data.strip(),
        "roles": form.roles.data,
        "store": form.store.data or None,
        "phone": form.phone.data,
        "wecom_userid": form.wecom_userid.data,
        "password": form.password.data,
    }
    return staff_service.create_by(actor, fields)


def _member(member_id: int) -> Staff:
    return staff_service.managed_member(current_staff(), member_id)


def _member_page(member: Staff, forms=None, status=200):
    actor = current_staff()
    edit = f.StaffEditForm(
        formdata=None,
        roles=sorted(member.role_set),
        store=member.store.name if member.store else "",
        active=member.active,
    )
    all_forms = {
        "edit": edit,
        "reset": f.ResetPasswordForm(formdata=None),
        "action": f.ActionForm(),
    }
    all_forms.update(forms or {})
    all_forms["edit"].store.choices = _store_choices(actor)
    return render_template("console/staff_member.html", member=member, forms=all_forms), status


@bp.get("/admin/staff/<int:member_id>")
@roles_required(*EDITORS)
def staff_member(member_id: int):
    return _member_page(_member(member_id))


@bp.post("/admin/staff/<int:member_id>")
@roles_required(*EDITORS)
def staff_edit(member_id: int):
    member, form = _member(member_id), f.StaffEditForm()
    form.store.choices = _store_choices(current_staff())
    if _valid_with_roles(form):
        try:
            staff_service.update_member(
                current_staff(), member, form.roles.data, form.store.data or None, form.active.data
            )
        except Invalid as exc:
            db.session.rollback()
            f.apply_errors(form, exc.fields, exc.message)
            return _member_page(member, {"edit": form}, 400)
        return _saved("已保存", "console.staff_member", member_id=member.id)
    return _member_page(member, {"edit": form}, 400)


@bp.post("/admin/staff/<int:member_id>/password")
@roles_required(*EDITORS)
def staff_reset_password(member_id: int):
    member, form = _member(member_id), f.ResetPasswordForm()
    if form.validate_on_submit():
        try:
            sign_in.check_new_password(member, form.password.data, form.confirm.data, "password")
            staff_service.reset_password(current_staff(), member, form.password.data)
        except Invalid as exc:
            f.apply_errors(form, exc.fields, exc.message)
            return _member_page(member, {"reset": form}, 400)
        return _saved(
            "密码已重置，该员工需用新密码重新登录", "console.staff_member", member_id=member.id
        )
    return _member_page(member, {"reset": form}, 400)


@bp.post("/admin/staff/<int:member_id>/tokens/revoke")
@roles_required(*EDITORS)
def staff_revoke_tokens(member_id: int):
    count = staff_service.revoke_tokens_by(current_staff(), _member(member_id))
    return _saved(f"已吊销 {count} 个 API 令牌", "console.staff_member", member_id=member_id)


# ---- tag rules


def _words(raw: str) -> list[str]:
    return [
        w.strip()
        for w in (raw or "").replace("，", "\n").replace(",", "\n").splitlines()
        if w.strip()
    ]


def _rule_data(form: f.TagRuleForm) -> dict:
    return {
        "dimension": form.dimension.data.strip(),
        "value": form.value.data.strip(),
        "words": _words(form.words.data),
        "exclusions": _words(form.exclusions.data),
    }


def _rules_page(form=None, status=200, edit=None):
    dimension = request.args.get("dimension", "")
    rows = tag_rules.listing(dimension if dimension in TAXONOMY else "")
    return render_template(
        "console/tag_rules.html",
        rows=rows,
        form=form or f.TagRuleForm(formdata=None),
        edit=edit,
        dimensions=TAXONOMY,
        dimension=dimension,
        action=f.ActionForm(),
    ), status


@bp.route("/admin/tag-rules", methods=["GET", "POST"])
@roles_required(*EDITORS)
def tag_rules_page():
    if request.method == "GET":
        return _rules_page()
    form = f.TagRuleForm()
    if form.validate_on_submit():
        try:
            tag_rules.create(_rule_data(form), current_staff())
        except tag_rules.RuleInputError as exc:
            db.session.rollback()
            f.apply_errors(form, exc.fields)
            return _rules_page(form, 400)
        return _saved("规则已添加", "console.tag_rules_page")
    return _rules_page(form, 400)


@bp.route("/admin/tag-rules/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def tag_rule(rule_id: int):
    row = tag_rules.get(rule_id)
    if request.method == "GET":
        form = f.TagRuleForm(
            formdata=None,
            dimension=row.dimension,
            value=row.value,
            words="\n".join(row.words),
            exclusions="\n".join(row.exclusions),
        )
        return render_template("console/tag_rule.html", row=row, form=form, action=f.ActionForm())
    form = f.TagRuleForm()
    if form.validate_on_submit():
        try:
            tag_rules.update_rule(row, {**_rule_data(form), "active": True}, current_staff())
        except tag_rules.RuleInputError as exc:
            db.session.rollback()
            f.apply_errors(form, exc.fields)
            return render_template(
                "console/tag_rule.html", row=row, form=form, action=f.ActionForm()
            ), 400
        return _saved("规则已保存", "console.tag_rule", rule_id=row.id)
    return render_template("console/tag_rule.html", row=row, form=form, action=f.ActionForm()), 400


@bp.post("/admin/tag-rules/<int:rule_id>/deactivate")
@roles_required(*EDITORS)
def tag_rule_deactivate(rule_id: int):
    tag_rules.deactivate(tag_rules.get(rule_id), current_staff())
    return _saved("规则已停用", "console.tag_rules_page")


# ---- auto-replies


def _reply_data(form: f.AutoReplyForm) -> dict:
    return {
        "keyword": form.keyword.data,
        "match": form.match.data,
        "reply": form.reply.data,
        "priority": form.priority.data if form.priority.data is not None else 100,
        "active": bool(form.active.data),
    }


def _replies_page(form=None, status=200):
    return render_template(
        "console/auto_replies.html",
        rows=reply_rules.list_rules(),
        form=form or f.AutoReplyForm(formdata=None),
    ), status


@bp.route("/admin/auto-replies", methods=["GET", "POST"])
@roles_required(*EDITORS)
def auto_replies():
    if request.method == "GET":
        return _replies_page()
    form = f.AutoReplyForm()
    if form.validate_on_submit():
        try:
            reply_rules.create(_reply_data(form), current_staff())
        except reply_rules.RuleInputError as exc:
            db.session.rollback()
            f.apply_errors(form, exc.fields)
            return _replies_page(form, 400)
        return _saved("自动回复已添加", "console.auto_replies")
    return _replies_page(form, 400)


@bp.route("/admin/auto-replies/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def auto_reply(rule_id: int):
    rule = reply_rules.get(rule_id)
    form = f.AutoReplyForm(obj=rule) if request.method == "GET" else f.AutoReplyForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                reply_rules.update(rule, _reply_data(form), current_staff())
            except reply_rules.RuleInputError as exc:
                db.session.rollback()
                f.apply_errors(form, exc.fields)
                status = 400
            else:
                return _saved("自动回复已保存", "console.auto_replies")
        else:
            status = 400
    return render_template("console/auto_reply.html", rule=rule, form=form), status


# ---- node template


def _nodes_page(form=None, status=200):
    rows = node_templates.all_nodes()
    db.session.commit()  # the defaults, when they were just seeded
    return render_template(
        "console/node_templates.html", rows=rows, form=form or f.NodeTemplateForm(formdata=None)
    ), status


@bp.route("/admin/node-templates", methods=["GET", "POST"])
@roles_required(*EDITORS)
def node_templates_page():
    if request.method == "GET":
        return _nodes_page()
    form = f.NodeTemplateForm()
    if form.validate_on_submit():
        node_templates.create(
            current_staff(),
            name=form.name.data.strip(),
            position=form.position.data,
            duration_days=form.duration_days.data,
            active=bool(form.active.data),
        )
        return _saved("节点已添加", "console.node_templates_page")
    return _nodes_page(form, 400)


@bp.route("/admin/node-templates/<int:node_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def node_template(node_id: int):
    node = node_templates.get(node_id)
    form = f.NodeTemplateForm(obj=node) if request.method == "GET" else f.NodeTemplateForm()
    if request.method == "POST":
        if form.validate_on_submit():
            node_templates.update(
                current_staff(),
                node.id,
                name=form.name.data.strip(),
                position=form.position.data,
                duration_days=form.duration_days.data,
                active=bool(form.active.data),
            )
            return _saved("节点已保存", "console.node_templates_page")
        return render_template("console/node_template.html", node=node, form=form), 400
    return render_template("console/node_template.html", node=node, form=form)
