"""Who a customer is, from WeChat: nickname, gender, follow state and unionid (which may merge
two customers into one).

Profiles are fetched for a batch of events at once (`prefetch`): official-account openids
through `user/info/batchget`, 100 a call (the documented maximum), WeCom customers one by one
(WeCom has no batch call for them). A fetch that fails is never the event's fault: the
event is enriched without the profile and the profile is asked again on the customer's next
event. When WeChat is down (network, HTTP 5xx, busy, quota: app.core.wechat.is_transient),
the rest of the batch does not ask again, so an outage costs one timeout a batch, not one
an event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from requests import RequestException
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from app.core.extensions import db
from app.core.wechat import WeChatConfigError, is_transient, mp_client, wecom_contact_client
from app.models import Customer, CustomerIdentity
from app.models.types import utcnow
from app.services.customers import customers

log = logging.getLogger(__name__)
PROFILE_REFRESH = timedelta(days=7)
GENDER_CODES = {1: "male", 2: "female", "1": "male", "2": "female"}
BATCHGET_MAX = 100  # user/info/batchget: "最多支持一次拉取100条"
INVALID_OPENID = 40003  # one bad openid fails the whole batchget call
KINDS = ("mp_openid", "wecom_external_userid")
FETCH_ERRORS = (WeChatClientException, WeChatConfigError, RequestException)


class Profiles:
    """What `prefetch` learnt for a batch: each customer's identities by kind (one query for
    the batch), and the profiles fetched, by identity id; None for a fetch that was tried
    and failed (not asked again in this batch)."""

    def __init__(self) -> None:
        self.identities: dict[int, dict[str, CustomerIdentity]] = {}
        self.fetched: dict[int, dict | None] = {}

    def load(self, customer_ids: Iterable[int]) -> None:
        ids = set(customer_ids) - set(self.identities)
        if not ids:
            return
        rows = db.session.scalars(
            select(CustomerIdentity)
            .where(CustomerIdentity.customer_id.in_(ids), CustomerIdentity.kind.in_(KINDS))
            .order_by(CustomerIdentity.id.desc())  # the oldest of a kind is written last
        )
        self.identities.update({i: {} for i in ids})
        for identity in rows:
            self.identities[identity.customer_id][identity.kind] = identity

    def identity(self, customer: Customer, kind: str) -> CustomerIdentity | None:
        if customer.id not in self.identities:
            self.load([customer.id])
        return self.identities[customer.id].get(kind)


def _due(identity: CustomerIdentity | None) -> bool:
    fetched = identity.profile_fetched_at if identity else None
    return identity is not None and (fetched is None or utcnow() - fetched > PROFILE_REFRESH)


def mp_profile(info: dict) -> dict:
    """Our fields from an official-account user record (user/info or an item of batchget)."""
    return {
        "nickname": info.get("nickname", ""),
        "gender": GENDER_CODES.get(info.get("sex"), ""),
        "unionid": info.get("unionid", ""),
        "subscribed": bool(info.get("subscribe", 1)),
    }


def fetch_profile(identity: CustomerIdentity) -> dict:
    """Nickname, gender and unionid of one identity from the official account or WeCom API."""
    if identity.kind == "mp_openid":
        return mp_profile(mp_client().user.get(identity.value))
    contact = wecom_contact_client().external_contact.get(identity.value)
    person = contact.get("external_contact", {})
    return {
        "nickname": person.get("name", ""),
        "gender": GENDER_CODES.get(person.get("gender"), ""),
        "unionid": person.get("unionid", ""),
    }


def _warn(what: str, exc: BaseException, count: int) -> None:
    # The exception's type and code only: its text may carry a URL with secrets in it.
    code = getattr(exc, "errcode", None)
    log.warning(
        "profile fetch failed; asked again on the customer's next event",
        extra={"what": what, "error": type(exc).__name__, "errcode": code, "identities": count},
    )


Fetched = dict[int, dict | None]


def _fetch_mp(identities: list[CustomerIdentity], found: Fetched) -> bool:
    """Fill `found` for these openids, 100 a call; False when WeChat is down (stop asking)."""
    for start in range(0, len(identities), BATCHGET_MAX):
        if not _batchget(identities[start : start + BATCHGET_MAX], found):
            return False
    return True


def _batchget(chunk: list[CustomerIdentity], found: Fetched) -> bool:
    """One user/info/batchget call. One invalid openid fails the whole call (40003): the
    chunk is then split in halves until the calls go through or one openid is left, so a
    bad openid among 100 costs about 14 calls, not 100. False when WeChat is down."""
    by_openid = {i.value: i for i in chunk}
    try:
        users = mp_client().user.get_batch(list(by_openid))
    except FETCH_ERRORS as exc:
        if getattr(exc, "errcode", None) == INVALID_OPENID and len(chunk) > 1:
            half = len(chunk) // 2
            return _batchget(chunk[:half], found) and _batchget(chunk[half:], found)
        found.update(dict.fromkeys((i.id for i in chunk), None))
        _warn("user/info/batchget", exc, len(chunk))
        return not (is_transient(exc) or isinstance(exc, WeChatConfigError))
    for user in users:
        identity = by_openid.get(user.get("openid"))
        if identity is not None:
            found[identity.id] = mp_profile(user)
    found.update({i.id: None for i in chunk if i.id not in found})
    return True


def _fetch_each(identities: Iterable[CustomerIdentity], found: Fetched) -> bool:
    """One call per identity; False when WeChat is down (the rest are not asked)."""
    for identity in identities:
        try:
            found[identity.id] = fetch_profile(identity)
        except FETCH_ERRORS as exc:
            found[identity.id] = None
            _warn(identity.kind, exc, 1)
            if is_transient(exc) or isinstance(exc, WeChatConfigError):
                return False
    return True


def prefetch(customer_list: Iterable[Customer]) -> Profiles:
    """The identities of these customers (one query) and the profiles they are due for (not
    fetched in PROFILE_REFRESH), fetched in bulk."""
    profiles = Profiles()
    alive = {c.id: c for c in customer_list}
    profiles.load(alive)
    due: dict[str, list[CustomerIdentity]] = {kind: [] for kind in KINDS}
    for customer in alive.values():
        for kind in KINDS:
            identity = profiles.identity(customer, kind)
            if _due(identity):
                due[kind].append(identity)
    found = profiles.fetched
    for kind, fetch in (("mp_openid", _fetch_mp), ("wecom_external_userid", _fetch_each)):
        if due[kind] and not fetch(due[kind], found):
            found.update({i.id: None for i in due[kind] if i.id not in found})
    return profiles


def link_unionid(customer: Customer, unionid: str) -> Customer:
    """A unionid known under another customer means the same person: merge into the older one."""
    holder = customers.find_by_identity("unionid", unionid)
    if holder is None:
        customers.add_identity(customer, "unionid", unionid)
        return customer
    if holder.id == customer.id:
        return customer
    target, source = sorted((holder, customer), key=lambda c: c.id)
    return customers.merge(target, source, actor="wechat:unionid", reason=f"same unionid {unionid}")


def _profile_of(identity: CustomerIdentity, fetched: Fetched) -> dict | None:
    if identity.id in fetched:
        profile = fetched[identity.id]
        return dict(profile) if profile is not None else None
    try:
        return fetch_profile(identity)
    except FETCH_ERRORS as exc:
        _warn(identity.kind, exc, 1)
        return None


def apply_due(customer: Customer, profiles: Profiles) -> list[str]:
    """Fill in the customer's due profiles (prefetched, else asked now): nickname and gender
    where empty, follow state, the time fetched. Attributes only, no statement of its own,
    so a batch's profiles are written by one flush. The unionids WeChat named, for
    link_unionid."""
    unionids = []
    for kind in KINDS:
        identity = profiles.identity(customer, kind)
        if not _due(identity):
            continue
        profile = _profile_of(identity, profiles.fetched)
        if profile is None:
            continue
        identity.profile_fetched_at = utcnow()
        if "subscribed" in profile:
            identity.subscribed = profile.pop("subscribed")
        unionid = profile.pop("unionid", "")
        customers.apply_profile(customer, profile, overwrite=False)
        if unionid:
            unionids.append(unionid)
    return unionids
