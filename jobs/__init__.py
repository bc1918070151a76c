"""RQ jobs: the entry points the worker runs (`flask worker`), thin like views.

A job is a module-level function decorated with `jobs.base.job`, enqueued by name
("jobs.notices:send_notices") through app.core.queue; the schedule is data in
jobs/schedule.py. Jobs call services and commit; services never import this package.
"""
