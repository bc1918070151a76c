"""Linking a mini-program user to their customer record: invite codes and phone numbers,
and undoing it (unbind).

An owner invite (or a matching phone) merges the customer created at the first mini login
into the rep's customer record; a family invite adds the user to one project as 家属.
Binding by invite code is rate-limited per homeowner (INVITE_BIND_LIMIT) and per client
address (INVITE_BIND_CLIENT_LIMIT): an 8-letter code cannot be guessed at request speed.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core import rate_limit
from app.core.errors import Conflict, Invalid, NotFound, RateLimited
from app.core.extensions import db
from app.models import Customer, Invite, Project, ProjectMember, Staff
from app.models.types import utcnow
from app.services.customers import access, audit, customers, mini_auth, phones
from app.services.customers import timeline as timeline_service

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
CODE_LENGTH = 8
VALID_FOR = timedelta(days=7)


def create(customer: Customer, actor: Staff, kind: str, project_id: int | None) -> Invite:
    """A new single-use invite code for this customer (family: for one of their projects)."""
    if not access.can_see(actor, customer):
        raise NotFound("客户不存在")
    if project_id is not None or kind == "family":
        project = db.session.get(Project, project_id) if project_id else None
        if project is None or project.customer_id != customer.id:
            message = "家属邀请需要指定该客户的项目"
            raise Invalid("请求参数有误，请检查后重试", fields={"project_id": message})
    invite = Invite(
        code="".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)),
        kind=kind,
        customer_id=customer.id,
        project_id=project_id,
        created_by_staff_id=actor.id,
        expires_at=utcnow() + VALID_FOR,
    )
    db.session.add(invite)
    db.session.flush()
    audit.record(
        "invite.create",
        "invite",
        invite.id,
        actor=actor,
        after={"kind": kind, "customer_id": customer.id, "project_id": project_id},
    )
    return invite


def _claim(code: str, homeowner: Customer) -> Invite:
    """Use the invite once (a conditional UPDATE: two phones cannot both use it)."""
    code = code.strip().upper()
    result = db.session.execute(
        update(Invite)
        .where(Invite.code == code, Invite.used_at.is_(None), Invite.expires_at > utcnow())
        .values(used_at=utcnow(), used_by_customer_id=homeowner.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        message = "邀请码无效、已使用或已过期"
        raise Invalid("请求参数有误，请检查后重试", fields={"invite_code": message})
    return db.session.scalars(select(Invite).filter_by(code=code)).one()


def link(homeowner: Customer, target: Customer, how: str) -> Customer:
    """Fold the mini user's own record into the rep's customer record."""
    target = customers.resolve(target)
    if target.id == homeowner.id:
        return target
    if db.session.scalars(select(Project.id).filter_by(customer_id=homeowner.id)).first():
        raise Conflict("该微信已绑定其他业主，请联系您的顾问")
    return customers.merge(target, homeowner, actor=f"mini:{how}", reason=f"小程序绑定({how})")


TOO_MANY = "尝试次数过多，请稍后再试"


def _count_attempt(homeowner: Customer, client: str) -> None:
    """RateLimited when this homeowner or this client address guessed too often."""
    config = current_app.config
    if not rate_limit.allow(
        "invite-bind", f"customer:{homeowner.id}", config["INVITE_BIND_LIMIT"]
    ) or not rate_limit.allow("invite-bind-client", client, config["INVITE_BIND_CLIENT_LIMIT"]):
        raise RateLimited(TOO_MANY, fields={"invite_code": TOO_MANY})


def bind_invite(homeowner: Customer, code: str, client: str = "") -> Customer:
    """Use an invite code: the owner's record (a merge) or a family membership. `client`:
    the caller's address, for the per-client limit. Invalid for a wrong, used or expired
    code; RateLimited over the limits; Conflict when this WeChat is another owner's."""
    _count_attempt(homeowner, client)
    invite = _claim(code, homeowner)
    if invite.kind == "owner":
        return link(homeowner, db.session.get(Customer, invite.customer_id), "invite")
    exists = db.session.scalars(
        select(ProjectMember).filter_by(project_id=invite.project_id, customer_id=homeowner.id)
    ).first()
    project = db.session.get(Project, invite.project_id)
    if exists is None and project.customer_id != homeowner.id:
        db.session.add(
            ProjectMember(
                project_id=project.id, customer_id=homeowner.id, role="family", invite_id=invite.id
            )
        )
        timeline_service.record(
            project.customer,
            "family_joined",
            channel="mini",
            direction="inbound",
            actor_type="customer",
            payload={"project_id": project.id, "member_id": homeowner.id},
        )
    db.session.flush()
    return homeowner


def bind_phone(homeowner: Customer, phone_code: str) -> Customer:
    """Match the customer by the phone WeChat vouches for (its keyed hash)."""
    phone = mini_auth.phone_from_code(phone_code)
    try:
        target = customers.find_by_identity("phone", phone) or _by_phone_hash(phone)
    except ValueError:
        target = None
    if target is None:
        raise NotFound("没有找到该手机号的客户档案，请联系您的顾问获取邀请码")
    return link(homeowner, target, "phone")


def _by_phone_hash(phone: str) -> Customer | None:
    """Customers entered by staff carry the phone on the record, not as an identity."""
    return db.session.scalars(
        select(Customer)
        .where(Customer.phone_hash.in_(phones.lookup_hashes(phone)))
        .where(Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
    ).first()


def unbind(session: str) -> Customer:
    """This WeChat (the mini-program identity of the session) leaves its customer record: the
    identity moves to a new, empty record of its own, so the next login sees no project,
    and every session of the identity ends (this one too). The record keeps its history and
    its other identities; the unbinding is on its timeline. The new record."""
    identity = mini_auth.session_identity(session)
    left = customers.resolve(identity.customer)
    fresh = Customer(source_channel="mini")
    db.session.add(fresh)
    db.session.flush()
    identity.customer_id = fresh.id
    mini_auth.end_sessions([identity.id])
    timeline_service.record(
        left,
        "mini_unbound",
        channel="mini",
        direction="inbound",
        actor_type="customer",
        payload={"identity_id": identity.id, "new_customer_id": fresh.id},
    )
    audit.record(
        "mini.unbind",
        "customer",
        left.id,
        actor=f"customer:{left.id}",
        after={"identity_id": identity.id, "new_customer_id": fresh.id},
    )
    return fresh
