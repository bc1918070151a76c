"""Coarse client information of a scan: enough to tell phones apart, nothing that names one.

A scan keeps the operating system family, phone or computer, whether WeChat's browser
opened it, the network (/24 of an IPv4 address, /48 of IPv6) and a keyed hash of address
and browser (BLAKE2b with SECRET_KEY): the same phone scanning twice gives the same hash,
which is what the "many different clients" rule counts; the address is not stored.
Behind a reverse proxy, TRACE_PROXY_HOPS says how many X-Forwarded-For entries (from the
right) were added by our own proxies; the client is the one before them.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app

OS_MARKERS = (
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("HarmonyOS", "HarmonyOS"),
    ("OpenHarmony", "HarmonyOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
MOBILE_MARKERS = ("Mobile", "iPhone", "Android", "HarmonyOS", "iPad")


@dataclass(frozen=True)
class Client:
    client: str  # keyed hash of address + browser
    network: str
    os: str
    device: str  # "mobile" | "desktop"
    in_wechat: bool
    limit_key: str  # what the rate limit counts: the address (an IPv6 one's /64), hashed

    def columns(self) -> dict:
        """The scan row's client columns."""
        return {
            "client": self.client,
            "network": self.network,
            "os": self.os,
            "device": self.device,
            "in_wechat": self.in_wechat,
        }


def _digest(key: bytes, *parts: str) -> str:
    hasher = hashlib.blake2b(digest_size=8, key=key, person=b"trace-client")
    for part in parts:
        hasher.update(part.encode("utf-8", "replace") + b"\x00")
    return hasher.hexdigest()


def _key() -> bytes:
    return current_app.config["SECRET_KEY"].encode()[:64]


def network_of(address: str) -> str:
    head, _, last = address.rpartition(".")
    if (
        len(address) <= 15
        and last.isdigit()
        and head.count(".") == 2
        and head.replace(".", "").isdigit()
    ):
        return f"{head}.0/24"  # IPv4, the common case, without ipaddress's parsing
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def address(remote_addr: str | None, forwarded_for: str | None) -> str:
    """The client's address: remote_addr, or the X-Forwarded-For entry TRACE_PROXY_HOPS
    from the right when our own proxies sit in front."""
    hops = current_app.config.get("TRACE_PROXY_HOPS", 0)
    if hops and forwarded_for:
        chain = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return remote_addr or ""


def os_of(user_agent: str) -> str:
    return next((name for marker, name in OS_MARKERS if marker in user_agent), "其他")


def describe(address_: str, user_agent: str) -> Client:
    """The coarse client of a request from `address_` with this User-Agent."""
    return _described(address_, user_agent[:512], _key())


@lru_cache(maxsize=4096)
def _described(address_: str, user_agent: str, key: bytes) -> Client:
    """describe's answer, kept per process: a homeowner opening box after box, or the
    rate limit's own repeat, costs two keyed hashes once (the key is part of the cache's)."""
    return Client(
        client=_digest(key, address_, user_agent),
        network=network_of(address_),
        os=os_of(user_agent),
        device="mobile" if any(m in user_agent for m in MOBILE_MARKERS) else "desktop",
        in_wechat="MicroMessenger" in user_agent,
        limit_key=_digest(key, subscriber(address_)),
    )


def subscriber(address_: str) -> str:
    """What one subscriber holds: an IPv4 address, or an IPv6 /64 (a home or a phone gets
    at least a /64, so keying the limit on the full address let one phone enumerate codes
    from 2**64 addresses, and flood the limiter's table of keys)."""
    if ":" not in address_:  # IPv4 (or nothing), the common case, without parsing
        return address_
    try:
        ip = ipaddress.IPv6Address(address_)
    except ValueError:
        return address_
    if ip.ipv4_mapped:  # a dual-stack socket's IPv4 client: that one address
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))


def mini(user: str, user_agent: str) -> Client:
    """The mini program's user (a stable key such as "customer:<id>"): one client per user,
    whatever network the phone is on."""
    key = _digest(_key(), "mini", user)
    return Client(key, "", os_of(user_agent[:512]), "mobile", True, key)
