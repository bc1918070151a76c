"""Keyset pagination cursors: an opaque (time, id) pair, newest first everywhere."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime


class CursorError(ValueError):
    """A pagination cursor that we did not issue."""


def encode(when: datetime, ident: int) -> str:
    raw = f"{when.isoformat()}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, int]:
    """(time, id) back from a cursor; CursorError for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        when = datetime.fromisoformat(stamp)
        # A naive time or an id past BIGINT would only fail later, in the database.
        if when.tzinfo is None or not ident.isdigit() or len(ident) > 18:
            raise ValueError("not one of our cursors")
        return when, int(ident)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise CursorError("无效的分页游标") from exc
