"""The schedule, declared as data: what runs when, and on which queue.

Each entry: `id`, `func` ("module:function", a `@job`), `trigger` ("cron" or "interval")
with its APScheduler arguments, and `queue`. Cron times are in TIMEZONE (Asia/Shanghai).
Later issues add entries here; the scheduler process only reads this list.
"""

from __future__ import annotations

SCHEDULE: list[dict] = []
