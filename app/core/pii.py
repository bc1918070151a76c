"""Personal data at rest: phone numbers encrypted, with a keyed hash for exact lookup.

`DATA_KEY` may hold several comma-separated secrets: the first encrypts and hashes,
all of them decrypt. That is what makes key rotation safe: deploy "new,old", run
`flask data-key rotate`, then deploy "new" alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")  # not \d: "１３８…" (full-width) is no number


class PhoneError(ValueError):
    """The text is not a mainland mobile number."""


def _derive(secret: str, purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"zxcrm-pii-v1", info=purpose)
    return hkdf.derive(secret.encode("utf-8"))


@dataclass(frozen=True)
class DataKeys:
    """Encryption (Fernet: AES-128-CBC + HMAC-SHA256) and hashing keys from DATA_KEY."""

    secrets: tuple[str, ...]

    # Derived once per key set (data_keys is cached): a page of 50 masked phones would
    # otherwise run HKDF 50 times.
    @cached_property
    def fernet(self) -> MultiFernet:
        return MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_derive(s, b"encrypt"))) for s in self.secrets]
        )

    @cached_property
    def _hash_keys(self) -> tuple[bytes, ...]:
        return tuple(_derive(s, b"lookup-hash") for s in self.secrets)

    def hash_keys(self) -> list[bytes]:
        return list(self._hash_keys)


@lru_cache(maxsize=8)
def data_keys(data_key: str) -> DataKeys:
    secrets = tuple(part.strip() for part in data_key.split(",") if part.strip())
    if not secrets:
        raise ValueError("DATA_KEY is empty")
    return DataKeys(secrets)


def normalise_phone(raw: str) -> str:
    """Digits only, without +86; raise PhoneError for anything that is not a mobile."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not PHONE_RE.match(digits):
        raise PhoneError(f"手机号格式不正确: {raw!r}")
    return digits


def phone_hash(keys: DataKeys, phone: str, key_index: int = 0) -> str:
    return hmac.new(keys.hash_keys()[key_index], phone.encode(), hashlib.sha256).hexdigest()


def all_phone_hashes(keys: DataKeys, phone: str) -> list[str]:
    """Hashes under every configured key, so lookups work in the middle of a rotation."""
    return [phone_hash(keys, phone, i) for i in range(len(keys.secrets))]


def encrypt(keys: DataKeys, plaintext: str) -> str:
    return keys.fernet.encrypt(plaintext.encode()).decode()


def decrypt(keys: DataKeys, token: str) -> str:
    try:
        return keys.fernet.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored value does not decrypt with any DATA_KEY") from exc


def mask_phone(phone: str | None) -> str | None:
    """138****5678: what a role that does not need the whole number sees."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
