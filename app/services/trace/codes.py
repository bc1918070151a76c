"""Trace codes (溯源码): generation, their public URL, and the batch's codes in serial order.

A code is LENGTH symbols of ALPHABET drawn from `secrets`: 31**17 ≈ 2**84.2 values, so
guessing one issued code among even a billion is a 1 in 2**54 chance per try, and the scan
page's rate limit caps tries. The alphabet has no look-alikes (no 0/O, 1/I/L) and no lower
case, so a code read aloud or typed from a label is unambiguous. Codes are unique (a unique
index; a collision, however unlikely, is drawn again) and numbered 1..N within their batch,
which is how deliveries and label sheets name ranges.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import func, insert, select

from app.core.errors import Invalid, NotFound
from app.core.extensions import db
from app.models import MaterialBatch, TraceCode
from app.models.types import utcnow

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 17
SPACE = len(ALPHABET) ** LENGTH  # ≈ 2**84.2: at least 80 bits of randomness (issue 13)
WELL_FORMED = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
CHUNK = 1000  # codes per existence check and per insert statement
NOT_ISSUED = "未查询到该溯源码，请谨慎购买"  # what an unknown or malformed code shows


def new_code() -> str:
    """One random code (secrets.randbelow over the whole space, written in ALPHABET)."""
    number, chars = secrets.randbelow(SPACE), []
    for _ in range(LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "".join(chars)


def well_formed(code: str) -> bool:
    """Exactly LENGTH symbols of ALPHABET (case matters: lookups are exact)."""
    return WELL_FORMED.fullmatch(code) is not None


def url(code: str) -> str:
    """What the QR opens: <TRACE_PUBLIC_BASE>/t/<code>."""
    return f"{current_app.config['TRACE_PUBLIC_BASE']}/t/{code}"


def _fresh(count: int) -> list[str]:
    """`count` distinct codes none of which is stored yet."""
    fresh: set[str] = set()
    while len(fresh) < count:
        drawn = {new_code() for _ in range(count - len(fresh))} - fresh
        for start in range(0, len(drawn), CHUNK):
            part = list(drawn)[start : start + CHUNK]
            taken = db.session.scalars(select(TraceCode.code).where(TraceCode.code.in_(part)))
            drawn -= set(taken)
        fresh |= drawn
    return list(fresh)


def generate(batch: MaterialBatch, count: int) -> tuple[int, int]:
    """Add `count` codes to the batch, serials following the last; (first, last) serial.

    Invalid when count is outside 1..TRACE_MAX_CODES or would exceed the batch's quantity.
    The batch row is locked (PostgreSQL) so two generations never take the same serials."""
    limit = current_app.config["TRACE_MAX_CODES"]
    if not 1 <= count <= limit:
        raise Invalid("生成数量超出范围", fields={"count": f"每次可生成 1 到 {limit} 个溯源码"})
    db.session.execute(
        select(MaterialBatch.id).where(MaterialBatch.id == batch.id).with_for_update()
    )
    last = db.session.scalar(
        select(func.max(TraceCode.serial)).where(TraceCode.batch_id == batch.id)
    )
    first = (last or 0) + 1
    if batch.quantity and first - 1 + count > batch.quantity:
        room = batch.quantity - first + 1
        raise Invalid(
            "溯源码数量不能超过批次数量",
            fields={"count": f"该批次数量为 {batch.quantity}，还可生成 {max(room, 0)} 个"},
        )
    now = utcnow()
    rows = [
        {"code": code, "batch_id": batch.id, "serial": first + i, "created_at": now}
        for i, code in enumerate(_fresh(count))
    ]
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(TraceCode), rows[start : start + CHUNK])
    return first, first + count - 1


def in_range(batch_id: int, first: int | None = None, last: int | None = None) -> Iterator[tuple]:
    """(serial, code) of the batch's codes in serial order, optionally first..last."""
    query = select(TraceCode.serial, TraceCode.code).where(TraceCode.batch_id == batch_id)
    if first is not None:
        query = query.where(TraceCode.serial >= first)
    if last is not None:
        query = query.where(TraceCode.serial <= last)
    yield from db.session.execute(query.order_by(TraceCode.serial)).tuples()


def count(batch_id: int, first: int | None = None, last: int | None = None) -> int:
    query = select(func.count()).select_from(TraceCode).where(TraceCode.batch_id == batch_id)
    if first is not None:
        query = query.where(TraceCode.serial >= first)
    if last is not None:
        query = query.where(TraceCode.serial <= last)
    return db.session.scalar(query) or 0


def page(batch_id: int, after: int | None, limit: int) -> tuple[list[TraceCode], str | None]:
    """The batch's codes by serial, `limit` a page after serial `after`."""
    query = select(TraceCode).where(TraceCode.batch_id == batch_id)
    if after is not None:
        query = query.where(TraceCode.serial > after)
    rows = list(db.session.scalars(query.order_by(TraceCode.serial).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].serial) if len(rows) > limit else None
    return rows[:limit], next_cursor


def find(code: str) -> TraceCode | None:
    """The code, by exact match; None for anything malformed (no query is made)."""
    if not well_formed(code):
        return None
    return db.session.scalars(select(TraceCode).where(TraceCode.code == code)).first()


def require(code: str) -> TraceCode:
    """The code, by exact match; NotFound (NOT_ISSUED) otherwise."""
    found = find(code)
    if found is None:
        raise NotFound(NOT_ISSUED)
    return found
