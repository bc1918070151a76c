"""The schedule, declared as data: what runs when, and on which queue.

Each entry: `id`, `func` ("module:function", a `@job`), `trigger` ("cron" or "interval")
with its APScheduler arguments, and `queue`. Cron times are in TIMEZONE (Asia/Shanghai).
The scheduler process only reads this list.
"""

from __future__ import annotations

SCHEDULE: list[dict] = [
    {
        # Callbacks stored while Redis was down get their enrichment queued here.
        "id": "sweep-unenriched",
        "func": "jobs.ingest:sweep_unenriched",
        "trigger": "interval",
        "minutes": 1,
        "queue": "periodic",
    },
    {
        # Due notices to the outbound queue; rows stuck in "sending" (dead worker) again.
        "id": "dispatch-outbox",
        "func": "jobs.notices:dispatch_outbox",
        "trigger": "interval",
        "minutes": 1,
        "queue": "periodic",
    },
    {
        # Maintenance anniversaries, birthdays, dormant leads (a missed day is caught up).
        "id": "daily-customer-pass",
        "func": "jobs.notices:daily_customer_pass",
        "trigger": "cron",
        "hour": 9,
        "minute": 0,
        "queue": "periodic",
    },
    {
        # Nodes past their planned end and not accepted: one alert per node per day to the PM
        # and the store manager.
        "id": "flag-delayed-nodes",
        "func": "jobs.projects:flag_delayed_nodes",
        "trigger": "interval",
        "hours": 1,
        "queue": "periodic",
    },
    {
        # Homeowners' uploads never cited in a rejection: files and rows deleted once the
        # token has expired, at night when nobody uploads.
        "id": "prune-uploads",
        "func": "jobs.projects:prune_uploads",
        "trigger": "cron",
        "hour": 4,
        "minute": 0,
        "queue": "periodic",
    },
    {
        # Console create forms' one-time nonces past their 30 days (a form that old is
        # refused as stale, so forgetting its nonce cannot let it post twice).
        "id": "prune-form-nonces",
        "func": "jobs.desk:prune_form_nonces",
        "trigger": "cron",
        "hour": 4,
        "minute": 20,
        "queue": "periodic",
    },
    {
        # Customer value (客户价值): customers whose 90-day engagement window dropped a
        # message, and any never assessed, at night.
        "id": "recompute-customer-value",
        "func": "jobs.value:recompute_due",
        "trigger": "cron",
        "hour": 3,
        "minute": 30,
        "queue": "periodic",
    },
    {
        # Sales (issue 16): response SLA misses, due follow-up reminders, first follow-ups
        # not logged in time; each reads only its indexed due rows and alerts once.
        "id": "sales-sweep",
        "func": "jobs.sales:sweep",
        "trigger": "interval",
        "minutes": 1,
        "queue": "periodic",
    },
    {
        # Leads nobody followed for POOL_IDLE_DAYS back to their store's pool (公海).
        "id": "sales-pool",
        "func": "jobs.sales:return_idle",
        "trigger": "cron",
        "hour": 2,
        "minute": 15,
        "queue": "periodic",
    },
]
