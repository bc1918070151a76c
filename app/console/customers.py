"""Customers: the list, the customer page and what staff do there."""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, request, url_for

from app.console import bp, current_staff
from app.console import forms as f
from app.core.errors import Conflict, Invalid, UpstreamUnavailable
from app.core.extensions import db
from app.services.customers.directory import Filters
from app.services.desk import customer_edits, customer_list, customer_page, replies, submissions


def _int(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _filters() -> Filters:
    args = request.args
    return Filters(
        q=args.get("q", "")[:100],
        stage=args.get("stage", ""),
        tag=args.get("tag", "")[:60],
        store_id=_int("store_id"),
        owner_id=_int("owner_id"),
        source=args.get("source", "")[:64],
        contact_days=_int("contact_days"),
        idle_days=_int("idle_days"),
        sort=args.get("sort", "-created"),
    )


@bp.get("/customers")
def customers():
    staff, filters = current_staff(), _filters()
    choices = customer_list.filter_choices(staff)
    try:
        page = customer_list.list_page(staff, filters, request.args.get("before") or None)
    except Invalid as exc:
        return render_template(
            "console/customers.html", page=None, filters=filters, errors=exc.fields or {}, **choices
        ), 400
    return render_template(
        "console/customers.html",
        page=page,
        filters=filters,
        errors={},
        customer_url=url_for("console.customers") + "/",  # once, not once a row
        **choices,
    )


def _forms(staff, customer, data: customer_page.CustomerPage) -> dict:
    """Every form the customer page shows, filled from the record (never from another
    form's POST: two forms share field names). Inside the reply window the reply form,
    outside it the notice form: the page shows one of the two."""
    blank = {"formdata": None}
    profile = f.ProfileForm(obj=customer, version=data.version, **blank)
    profile.owner_id.choices = _owner_choices(staff)
    profile.owner_id.data = customer.owner_id or 0
    forms = {
        "profile": profile,
        "stage": f.StageForm(version=data.version, stage=customer.stage, **blank),
        "note": f.NoteForm(nonce=submissions.new_nonce(), **blank),
        "tag": f.TagForm(**blank),
        "merge": f.MergeForm(**blank),
        "followup": f.FollowUpForm(**blank),
    }
    if data.window.open:
        forms["reply"] = f.ReplyForm(nonce=secrets.token_urlsafe(16), **blank)
    else:
        forms["notice"] = f.TemplateNoticeForm(
            nonce=secrets.token_urlsafe(16), kind="rep-followup", **blank
        )
    return forms


def _owner_choices(staff) -> list:
    if not staff.has_role(*customer_edits.ASSIGNERS):
        return f.options([(0, "（不变）")])  # the field is not shown: no staff query
    return f.options([(0, "（不变）"), *customer_page.staff_choices(staff)])


def _render(customer, forms=None, status=200, message=""):
    staff = current_staff()
    kind = request.args.get("kind", "")
    data = customer_page.page(staff, customer, kind, request.args.get("before") or None)
    all_forms = _forms(staff, customer, data)
    if forms:
        all_forms.update(forms)
    return render_template(
        "console/customer.html",
        data=data,
        c=customer,
        forms=all_forms,
        actors=customer_page.event_actors(data.events),
        kind_groups=customer_page.KIND_GROUPS,
        templates=replies.templates(),
        message=message,
    ), status


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int):
    return _render(customer_page.load(current_staff(), customer_id))


def _done(customer_id: int, message: str, anchor: str = ""):
    db.session.commit()
    flash(message, "ok")
    return redirect(url_for("console.customer", customer_id=customer_id) + anchor)


def _act(customer_id: int, form_class, name: str, action, message: str, anchor: str = ""):
    """The one shape of every customer form: validate, call the service, commit and go
    back; or show the page again with the messages next to the fields and what was typed."""
    staff = current_staff()
    customer = customer_page.load(staff, customer_id)
    form = form_class()
    if isinstance(form, f.ProfileForm):
        form.owner_id.choices = _owner_choices(staff)
    if form.validate_on_submit():
        if isinstance(form, f.OnceForm) and not submissions.claim(staff, form.nonce.data, name):
            return _done(customer.id, f.REPLAYED, anchor)
        try:
            action(staff, customer, form)
        except Invalid as exc:
            db.session.rollback()
            f.apply_errors(form, exc.fields, exc.message)
            return _render(customer, {name: form}, 400)
        except (Conflict, UpstreamUnavailable) as exc:
            db.session.commit()  # an audit row of the refusal, nothing else
            return _render(
                customer, {name: form}, 409 if isinstance(exc, Conflict) else 502, exc.message
            )
        return _done(customer.id, message, anchor)
    return _render(customer, {name: form}, 400, f.unshown_errors(form, name))


@bp.post("/customers/<int:customer_id>/profile")
def edit_profile(customer_id: int):
    def action(staff, customer, form):
        fields = {k: form[k].data for k in customer_edits.TEXT_FIELDS}
        fields.update(gender=form.gender.data, birthday=form.birthday.data, phone=form.phone.data)
        fields["owner_id"] = form.owner_id.data or None
        customer_edits.update_profile(staff, customer, form.version.data, fields)

    return _act(customer_id, f.ProfileForm, "profile", action, "资料已保存")


@bp.post("/customers/<int:customer_id>/stage")
def move_stage(customer_id: int):
    def action(staff, customer, form):
        customer_edits.move_stage(
            staff, customer, form.version.data, form.stage.data, form.reason.data
        )

    return _act(customer_id, f.StageForm, "stage", action, "阶段已变更", "#timeline")


@bp.post("/customers/<int:customer_id>/notes")
def add_note(customer_id: int):
    def action(staff, customer, form):
        customer_edits.add_note(staff, customer, form.text.data)

    return _act(customer_id, f.NoteForm, "note", action, "备注已添加", "#timeline")


@bp.post("/customers/<int:customer_id>/tags")
def add_tag(customer_id: int):
    def action(staff, customer, form):
        customer_edits.add_tag(staff, customer, form.tag.data)

    return _act(customer_id, f.TagForm, "tag", action, "标签已添加", "#tags")


@bp.post("/customers/<int:customer_id>/tags/remove")
def remove_tag(customer_id: int):
    def action(staff, customer, form):
        customer_edits.remove_tag(staff, customer, request.form.get("tag", ""))

    return _act(customer_id, f.ActionForm, "action", action, "标签已移除", "#tags")


@bp.post("/customers/<int:customer_id>/reply")
def reply(customer_id: int):
    def action(staff, customer, form):
        replies.send(staff, customer, form.text.data, form.nonce.data or secrets.token_hex(8))

    return _act(customer_id, f.ReplyForm, "reply", action, "回复已发送", "#timeline")


@bp.post("/customers/<int:customer_id>/notice")
def send_notice(customer_id: int):
    def action(staff, customer, form):
        replies.send_template(
            staff,
            customer,
            form.kind.data,
            form.nonce.data or secrets.token_hex(8),
            form.topic.data,
            form.note.data,
        )

    return _act(customer_id, f.TemplateNoticeForm, "notice", action, "通知已加入发送队列")


@bp.post("/customers/<int:customer_id>/merge")
def merge(customer_id: int):
    def action(staff, customer, form):
        customer_edits.merge(staff, customer, form.other_id.data, form.reason.data)

    return _act(customer_id, f.MergeForm, "merge", action, "客户已合并")
