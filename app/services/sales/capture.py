"""Lead capture beyond chat: the mini program's appointment form (预约量房 / 获取报价) and
the same form as a public web page. Either finds or creates the customer by the identity
rules (the mini-program openid of the signed-in homeowner; the phone's keyed hash), keeps
what was filled in on the timeline (no phone number there), tags the note, starts the
response SLA and assignment. The same customer submitting again within
LEAD_DUPLICATE_MINUTES is the same lead: nothing new is recorded."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select

from app.core import hooks
from app.core.errors import Invalid
from app.core.extensions import db
from app.core.pii import PhoneError
from app.models import Customer, CustomerIdentity, TimelineEvent
from app.models.types import utcnow
from app.services.customers import customers, mini_auth, phones, timeline
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


def from_mini(homeowner: Customer, form: LeadForm, phone_code: str | None = None) -> Captured:
    """The mini program: the signed-in homeowner; the phone typed or granted (a
    getPhoneNumber code); a phone known on another customer is the same person, and the
    two records become one (the older keeps everything)."""
    customer = customers.resolve(homeowner)
    if phone_code:
        form = replace(form, phone=mini_auth.phone_from_code(phone_code))
    if form.phone.strip():
        _check_phone(form.phone)
        holder = _phone_holder(form.phone)
        if holder is None:
            customers.add_identity(customer, "phone", form.phone)
        elif holder.id != customer.id and (phone_code or not _on_wechat(holder)):
            older, newer = sorted((holder, customer), key=lambda c: c.id)
            customer = customers.merge(older, newer, actor="lead-form", reason="留资手机号相同")
    return _record(customer, form, "mini", customer.source_channel or "mini")


WECHAT_KINDS = ("mp_openid", "mini_openid", "unionid", "wecom_external_userid")


def _on_wechat(customer: Customer) -> bool:
    """Whether the customer has a WeChat identity of their own. A phone merely typed is no
    proof: merging on it would sign the typist in as that other WeChat user, their
    projects and credits included. WeChat's getPhoneNumber (phone_code) is proof."""
    found = db.session.scalar(
        select(CustomerIdentity.id)
        .where(CustomerIdentity.customer_id == customer.id, CustomerIdentity.kind.in_(WECHAT_KINDS))
        .limit(1)
    )
    return found is not None


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


# The public page's form: a signed, timed token (the page was served by us, recently) and a
# honeypot field people never see; the rate limit per client address is the view's.
FORM_TOKEN_AGE = 24 * 3600
WEB_LIMITS = {"name": 50, "phone": 20, "community": 100, "area": 20, "budget": 30, "style": 30}
WEB_LIMITS["note"] = 500


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lead-form")


def form_token() -> str:
    return _signer().dumps(secrets.token_hex(8))


def read_web_form(fields: dict, channel: str) -> tuple[LeadForm, str]:
    """The posted page: (the form, its channel); Invalid with field messages, or a
    refusal (Invalid code bad_form) for a stale token, a filled honeypot or no consent."""
    try:
        _signer().loads(fields.get("token", ""), max_age=FORM_TOKEN_AGE)
    except BadData as exc:
        raise Invalid("页面已过期，请刷新后重新提交", code="bad_form") from exc
    if fields.get("website"):  # the honeypot: only a robot fills a field nobody sees
        raise Invalid("提交失败，请刷新后重试", code="bad_form")
    errors = {k: f"不能超过 {n} 个字" for k, n in WEB_LIMITS.items() if len(fields.get(k, "")) > n}
    if not fields.get("consent"):
        errors["consent"] = "请阅读并同意联系授权"
    if errors:
        raise Invalid("请检查填写的内容", errors)
    data = {k: storable_text(fields.get(k, "")) for k in WEB_LIMITS}
    kind = "quote" if fields.get("kind") == "quote" else "measure"
    clean = "".join(c for c in channel if c.isascii() and (c.isalnum() or c in "_-"))[:32]
    return LeadForm(**data, kind=kind), clean


def storable_text(value: str) -> str:
    return "".join(
        c for c in (value or "").strip() if c != "\x00" and not 0xD800 <= ord(c) <= 0xDFFF
    )
