"""Lead capture beyond chat: the mini program's appointment form (预约量房 / 获取报价) and
the same form as a public web page. Either finds or creates the customer by the identity
rules (the mini-program openid of the signed-in homeowner; the phone's keyed hash), keeps
what was filled in on the timeline (no phone number there), tags the note, starts the
response SLA and assignment. The same customer submitting again within
LEAD_DUPLICATE_MINUTES is the same lead: nothing new is recorded."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.core import hooks
from app.core.errors import Invalid
from app.core.extensions import db
from app.core.pii import PhoneError
from app.models import Customer, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers, phones, timeline
from app.services.sales import leads, sla
from app.services.tagging import tagging


@dataclass(frozen=True)
class LeadForm:
    name: str = ""
    phone: str = ""
    community: str = ""
    area: str = ""  # m², as written
    budget: str = ""  # as written: "20万", "15-20万"
    style: str = ""
    note: str = ""
    kind: str = "measure"  # measure 预约量房 | quote 获取报价


@dataclass(frozen=True)
class Captured:
    customer: Customer
    duplicate: bool


def _phone_holder(phone: str) -> Customer | None:
    try:
        return customers.find_by_identity("phone", phone)
    except PhoneError as exc:
        raise Invalid("手机号格式不正确", {"phone": "手机号格式不正确"}) from exc


def _check_phone(phone: str) -> None:
    try:
        phones.lookup_hashes(phone)
    except ValueError as exc:
        raise Invalid("手机号格式不正确", {"phone": "手机号格式不正确"}) from exc


def from_web(form: LeadForm, channel: str = "") -> Captured:
    """The public page: the phone is the identity (required)."""
    if not form.phone.strip():
        raise Invalid("请填写手机号", {"phone": "请填写手机号，方便我们联系您"})
    _check_phone(form.phone)
    source = f"form:{channel}" if channel else "form"
    customer, _ = customers.find_or_create_by_identity(
        "phone", form.phone, source_channel=source[:100]
    )
    return _record(customer, form, "mp", source)


def from_mini(homeowner: Customer, form: LeadForm) -> Captured:
    """The mini program: the signed-in homeowner; a phone known on another customer is the
    same person, and the two records become one (the older keeps everything)."""
    customer = customers.resolve(homeowner)
    if form.phone.strip():
        _check_phone(form.phone)
        holder = _phone_holder(form.phone)
        if holder is None:
            customers.add_identity(customer, "phone", form.phone)
        elif holder.id != customer.id:
            older, newer = sorted((holder, customer), key=lambda c: c.id)
            customer = customers.merge(older, newer, actor="lead-form", reason="留资手机号相同")
    return _record(customer, form, "mini", customer.source_channel or "mini")


def _recent(customer: Customer, now: datetime) -> TimelineEvent | None:
    window = timedelta(minutes=current_app.config["LEAD_DUPLICATE_MINUTES"])
    return db.session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.customer_id == customer.id,
            TimelineEvent.kind == "lead_form",
            TimelineEvent.occurred_at >= now - window,
        )
    ).first()


def _record(customer: Customer, form: LeadForm, channel: str, source: str) -> Captured:
    now = utcnow()
    profile = {"name": form.name.strip(), "community": form.community.strip()}
    customers.apply_profile(customer, profile | {"phone": form.phone.strip()}, overwrite=False)
    if _recent(customer, now) is not None:
        return Captured(customer, True)
    minutes = current_app.config["LEAD_DUPLICATE_MINUTES"] * 60
    bucket = int(now.timestamp()) // minutes
    fields = {k: v for k, v in asdict(form).items() if k not in ("phone", "name") and v}
    event, created = timeline.record_once(
        customer,
        "lead_form",
        channel=channel,
        direction="inbound",
        actor_type="customer",
        payload={**fields, "source": source, "has_phone": bool(form.phone.strip())},
        occurred_at=now,
        dedupe_key=f"lead-form:{customer.id}:{bucket}",
    )
    if not created:
        return Captured(customer, True)
    text = " ".join(x for x in (form.note, form.style, _budget_text(form.budget)) if x.strip())
    if text:
        tagging.tag_form_text(customer, text, event)
    lead = leads.ensure(customer)
    if lead.first_inbound_at is None:
        sla.start(lead, now)
    if lead.state != "owned":
        hooks.run("lead_created", customer.id, source)
    return Captured(customer, False)


def _budget_text(budget: str) -> str:
    budget = budget.strip()
    return f"预算{budget}" if budget and not budget.startswith("预算") else budget
