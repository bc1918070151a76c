"""Anniversary maintenance (周年维护): 1, 3 and 5 years after a project's completion.

The projects code calls `plan_for_completion` when a project completes. The daily pass
(`run_due`, 09:00 local) is set-based SQL on the `next_due` index: one INSERT … SELECT
creates the due notices (idempotency key `maintenance-{n}y:project:{id}`), one creates the
free whole-house inspection tickets at 5 years, one UPDATE moves each plan to its next
anniversary (1 → 3 → 5 → done). `next_due <= today` also catches days the scheduler
missed: yesterday's plans are sent today, once (the key and the UPDATE make sure).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime

from sqlalchemy import select, text

from app.core.database import insert_once
from app.core.extensions import db
from app.models import MaintenancePlan
from app.services.notices import notice_timing

SEND_AT = (9, 0)  # local time the anniversary notices are scheduled for
NEXT = {1: 3, 3: 5, 5: None}


def anniversary(day: date, years: int) -> date:
    """`day` plus `years`; a 29 February falls on the 28th in common years."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def plan_for_completion(customer_id: int, project_id: int, completed_on: date) -> MaintenancePlan:
    """Start (or restart, if the completion date changed) the plan of a completed project."""
    plan = db.session.scalars(select(MaintenancePlan).filter_by(project_id=project_id)).first()
    if plan is None:
        plan = MaintenancePlan(customer_id=customer_id, project_id=project_id)
        _start(plan, completed_on)
        if not insert_once(plan):  # a concurrent completion of the same project
            plan = db.session.scalars(
                select(MaintenancePlan).filter_by(project_id=project_id)
            ).one()
    if plan.completed_on != completed_on:
        _start(plan, completed_on)
    return plan


def _start(plan: MaintenancePlan, completed_on: date) -> None:
    plan.completed_on, plan.next_years = completed_on, 1
    plan.next_due = anniversary(completed_on, 1)
    db.session.flush()


_DUE = "next_due <= :today AND next_years IS NOT NULL"
_KIND = "'maintenance-' || next_years || 'y'"
_NOTICES = (
    "INSERT INTO notices (kind, audience, customer_id, idem_key, marketing, urgent, context,"
    " channel, channel_reason, status, scheduled_at, attempts, last_error, delivery, created_at)"
    f" SELECT {_KIND}, 'customer', customer_id, {_KIND} || ':project:' || project_id, false, false,"
    " {context}, '', '', 'pending', :at, 0, '', '', :now FROM maintenance_plans WHERE "
    + _DUE
    + " ON CONFLICT (idem_key) DO NOTHING"
)
_CONTEXT = {
    "postgresql": "jsonb_build_object('project_id', project_id, 'completed_on', completed_on, 'years', next_years)",
    "sqlite": "json_object('project_id', project_id, 'completed_on', completed_on, 'years', next_years)",
}
_TICKETS = (
    "INSERT INTO service_tickets (customer_id, project_id, kind, status, title, dedupe_key, created_at)"
    " SELECT customer_id, project_id, '检测', 'open', '五周年免费全屋检测（含局部翻新方案）',"
    " 'inspection-5y:project:' || project_id, :now FROM maintenance_plans"
    " WHERE " + _DUE + " AND next_years = 5 ON CONFLICT (dedupe_key) DO NOTHING"
)
_ADD_YEARS = {  # PostgreSQL: 29 Feb + 1 year = 28 Feb, as in `anniversary`
    "postgresql": "CAST(completed_on + interval '{n} years' AS date)",
    "sqlite": "date(completed_on, '+{n} years')",  # 29 Feb + 1 year = 1 Mar: close enough
}
_ADVANCE = (
    "UPDATE maintenance_plans SET next_years = CASE next_years WHEN 1 THEN 3 WHEN 3 THEN 5 END,"
    " next_due = CASE next_years WHEN 1 THEN {three} WHEN 3 THEN {five} END WHERE " + _DUE
)


def run_due(today: date, now: datetime) -> int:
    """Notices for every plan due by `today`, scheduled at 09:00 local; returns how many."""
    dialect = db.engine.dialect.name
    params = {"today": today, "at": notice_timing.at_local(today, SEND_AT), "now": now}
    created = db.session.execute(
        text(_NOTICES.format(context=_CONTEXT[dialect])), _bind(params)
    ).rowcount
    db.session.execute(text(_TICKETS), _bind(params))
    add = _ADD_YEARS[dialect]
    db.session.execute(
        text(_ADVANCE.format(three=add.format(n=3), five=add.format(n=5))), _bind(params)
    )
    return created


def _bind(params: dict) -> dict:
    """Times as the column type stores them (SQLite: naive UTC text)."""
    if db.engine.dialect.name != "sqlite":
        return params
    return {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in params.items()}
