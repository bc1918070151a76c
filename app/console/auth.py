"""Sign in, sign out, change password."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for

from app.console import bp, current_staff
from app.console.forms import LoginForm, PasswordForm, apply_errors
from app.core.errors import Invalid, RateLimited, Unauthenticated
from app.core.extensions import db
from app.services.customers import sign_in


def _safe_next(target: str | None) -> str:
    """Only a console path: never an outside address (open redirect)."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.customers")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        try:
            member = sign_in.sign_in(form.login.data, form.password.data, request.remote_addr)
        except RateLimited as exc:
            form.form_errors.append(exc.message)
            status = 429
        except Unauthenticated as exc:
            db.session.commit()  # the failed attempt's audit row
            form.form_errors.append(exc.message)
            status = 401
        else:
            db.session.commit()
            session.clear()
            session.permanent = True
            session["staff_id"], session["stamp"] = member.id, sign_in.session_stamp(member)
            return redirect(_safe_next(form.next.data))
    elif request.method == "POST":
        status = 400
    return render_template("console/login.html", form=form), status


@bp.post("/logout")
def logout():
    sign_in.sign_out(current_staff())
    db.session.commit()
    session.clear()
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form, status = PasswordForm(), 200
    if form.validate_on_submit():
        member = current_staff()
        try:
            sign_in.change_password(member, form.current.data, form.new.data, form.confirm.data)
        except Invalid as exc:
            apply_errors(form, exc.fields, exc.message)
            status = 400
        else:
            db.session.commit()
            session["stamp"] = sign_in.session_stamp(member)  # this session goes on
            return render_template("console/password.html", form=None, done=True)
    elif request.method == "POST":
        status = 400
    return render_template("console/password.html", form=form, done=False), status


@bp.get("/")
def index():
    return redirect(url_for("console.customers"))
