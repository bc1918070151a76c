"""The scan page's rate limit: at most TRACE_SCAN_LIMIT openings per client per
TRACE_SCAN_WINDOW seconds, so codes cannot be enumerated (issue 13).

Counted by the app's one limiter in its batched form (app.core.rate_limit.allow_batched:
fixed windows, counted in each web process and added to Redis every few openings of a
client, each opening near the limit, so most openings cost no Redis round trip; a window
allows at most the limit plus about a tenth of it per other web process and thread, see
there; counted in-process while Redis fails, so an outage
neither opens the page to enumeration nor closes it to homeowners).
"""

from __future__ import annotations

from flask import current_app

from app.core import rate_limit
from app.core.errors import RateLimited

MESSAGE = "查询过于频繁，请稍后再试"


def hit(client_key: str) -> None:
    """Count one opening by this client; RateLimited once over the limit."""
    limit = current_app.config["TRACE_SCAN_LIMIT"]
    if limit <= 0:  # 0 turns the limit off
        return
    window = max(current_app.config["TRACE_SCAN_WINDOW"], 1)
    if not rate_limit.allow_batched("trace-scan", client_key, limit, window):
        raise RateLimited(MESSAGE)
