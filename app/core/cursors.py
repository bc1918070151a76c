"""Keyset pagination cursors: an opaque (time, id) pair, newest first everywhere."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from app.core.errors import Invalid

MESSAGE = "无效的分页游标"


class CursorError(Invalid, ValueError):
    """A pagination cursor that we did not issue (the APIs' `before` parameter)."""

    code = "bad_cursor"

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message, fields={"before": message})


def encode(when: datetime, ident: int) -> str:
    raw = f"{when.isoformat()}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, int]:
    """(time, id) back from a cursor; CursorError for anything we did not issue."""
    try:
        if not cursor.isascii():  # "١٢" would be read as 12 by int() and fromisoformat()
            raise ValueError("not one of our cursors")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.isascii():
            raise ValueError("not one of our cursors")
        stamp, _, ident = raw.partition("|")
        when = datetime.fromisoformat(stamp)
        # A naive time or an id past BIGINT would only fail later, in the database.
        if when.tzinfo is None or not ident.isdigit() or len(ident) > 18:
            raise ValueError("not one of our cursors")
        return when, int(ident)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise CursorError() from exc
