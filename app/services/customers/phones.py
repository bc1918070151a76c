"""Phone numbers: encrypt, hash, reveal and mask, with the keys from DATA_KEY."""

from __future__ import annotations

from flask import current_app

from app.core import pii


def keys() -> pii.DataKeys:
    return pii.data_keys(current_app.config["DATA_KEY"])


def seal(raw: str) -> tuple[str, str, str]:
    """Normalise a phone number; return (phone, ciphertext, lookup hash)."""
    phone = pii.normalise_phone(raw)
    return phone, pii.encrypt(keys(), phone), pii.phone_hash(keys(), phone)


def reveal(ciphertext: str | None) -> str | None:
    return pii.decrypt(keys(), ciphertext) if ciphertext else None


def lookup_hashes(raw: str) -> list[str]:
    """Every hash the number may be stored under (more than one during a key rotation)."""
    return pii.all_phone_hashes(keys(), pii.normalise_phone(raw))


def masked(ciphertext: str | None) -> str | None:
    return pii.mask_phone(reveal(ciphertext))
