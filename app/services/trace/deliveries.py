"""材料进场: a batch, or a range of its serials, delivered to a project's site.

The codes delivered point at the delivery (each code goes to one site only: a range that
overlaps codes already delivered is a Conflict). The homeowner gets a timeline event and the
existing `material-delivered` notice through the outbox, linking the first delivered code's
page. A project's material list is read as the mini program's project page reads (a
prebuilt statement, outside a transaction).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, func, select, true, update

from app.core.errors import Conflict, Invalid
from app.core.extensions import db
from app.core.prebuilt import Prebuilt, reading
from app.models import (
    MaterialBatch,
    MaterialDelivery,
    Project,
    Staff,
    TraceCode,
)
from app.models.types import utcnow
from app.services.customers import timeline
from app.services.notices import outbox
from app.services.trace import catalog, codes

FUTURE_SLACK = timedelta(minutes=10)  # a phone's clock a little ahead is not an error


def _when(delivered_at: datetime | None) -> datetime:
    """UTC; a time without a zone is the company's (TIMEZONE); never in the future."""
    if delivered_at is None:
        return utcnow()
    if delivered_at.tzinfo is None:
        delivered_at = delivered_at.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    if delivered_at > utcnow() + FUTURE_SLACK:
        raise Invalid("进场时间不能晚于现在", fields={"delivered_at": "进场时间不能晚于现在"})
    return delivered_at


def _serials(batch: MaterialBatch, first: int | None, last: int | None) -> tuple[int, int]:
    """The range to deliver: as given, or every code of the batch not yet delivered."""
    issued = db.session.execute(
        select(func.min(TraceCode.serial), func.max(TraceCode.serial)).where(
            TraceCode.batch_id == batch.id,
            TraceCode.delivery_id.is_(None) if first is None and last is None else true(),
        )
    ).one()
    if issued[0] is None:
        if codes.count(batch.id) == 0:
            raise Conflict("该批次还没有溯源码，请先生成")
        raise Conflict("该批次的溯源码已全部进场")
    first = issued[0] if first is None else first
    last = issued[1] if last is None else last
    if not issued[0] <= first <= last <= issued[1]:
        message = f"序号范围应在 {issued[0]} 到 {issued[1]} 之间，且起始不大于结束"
        raise Invalid("序号范围有误", fields={"first_serial": message})
    return first, last


def deliver(
    batch: MaterialBatch,
    project: Project,
    actor: Staff,
    first: int | None = None,
    last: int | None = None,
    delivered_at: datetime | None = None,
    note: str = "",
) -> MaterialDelivery:
    """Deliver serials first..last (default: every code not yet delivered) to the project."""
    when, whole = _when(delivered_at), first is None and last is None
    # FOR NO KEY UPDATE: deliveries of a batch still wait for each other, but a scan row's
    # foreign key (a key share on the batch) does not wait for this one; with FOR UPDATE a
    # scan write holding a code of the range deadlocked with the delivery (answered 503).
    db.session.execute(
        select(MaterialBatch.id).where(MaterialBatch.id == batch.id).with_for_update(key_share=True)
    )
    first, last = _serials(batch, first, last)
    in_range = (TraceCode.batch_id == batch.id, TraceCode.serial.between(first, last))
    taken = db.session.scalar(
        select(func.count()).where(*in_range, TraceCode.delivery_id.is_not(None))
    )
    if taken and not whole:
        raise Conflict(f"范围内有 {taken} 个溯源码已登记进场", fields={"first_serial": "范围重叠"})
    delivery = MaterialDelivery(
        batch_id=batch.id,
        project_id=project.id,
        first_serial=first,
        last_serial=last,
        code_count=0,
        delivered_at=when,
        note=note,
        staff_id=actor.id,
    )
    db.session.add(delivery)
    db.session.flush()
    delivery.code_count = db.session.execute(
        update(TraceCode)
        .where(*in_range, TraceCode.delivery_id.is_(None))
        .values(delivery_id=delivery.id),
        execution_options={"synchronize_session": False},
    ).rowcount
    first_code = db.session.scalar(
        select(TraceCode.code).where(TraceCode.batch_id == batch.id, TraceCode.serial == first)
    )
    _tell_homeowner(delivery, batch, project, actor, first_code)
    return delivery


def _tell_homeowner(delivery, batch, project, actor, first_code: str) -> None:
    material = batch.material
    payload = {
        "delivery_id": delivery.id,
        "project_id": project.id,
        "batch_id": batch.id,
        "batch_no": batch.batch_no,
        "material": material.name,
        "brand": material.brand,
        "model": material.model,
        "code_count": delivery.code_count,
        "trace_code": first_code,
    }
    timeline.record_once(
        project.customer,
        "material_delivered",
        channel="api",
        payload=payload,
        actor_staff=actor,
        occurred_at=delivery.delivered_at,
        dedupe_key=f"material-delivered:{delivery.id}",
    )
    outbox.notify_customer(
        "material-delivered",
        project.customer,
        f"delivery:{delivery.id}",
        project_id=project.id,
        project_name=project.community or project.address or f"项目{project.id}",
        material=material.name,
        brand=material.brand,
        trace_code=first_code,
        at=delivery.delivered_at.isoformat(),
        # The template links {{ base_url }}/t/<code>: trace pages live at TRACE_PUBLIC_BASE.
        base_url=current_app.config["TRACE_PUBLIC_BASE"],
    )


def for_batch(batch_id: int) -> list[MaterialDelivery]:
    query = select(MaterialDelivery).where(MaterialDelivery.batch_id == batch_id)
    return list(db.session.scalars(query.order_by(MaterialDelivery.id)))


def _materials_statement():
    delivery, code = MaterialDelivery.__table__, TraceCode.__table__
    first_code = (code.c.batch_id == delivery.c.batch_id) & (
        code.c.serial == delivery.c.first_serial
    )
    return (
        select(
            delivery.c.id,
            delivery.c.delivered_at,
            delivery.c.code_count,
            delivery.c.first_serial,
            delivery.c.last_serial,
            *catalog.CATALOG_COLUMNS,
            code.c.code.label("trace_code"),
        )
        .select_from(
            catalog.join_catalog(delivery, delivery.c.batch_id).outerjoin(code, first_code)
        )
        .where(delivery.c.project_id == bindparam("project_id"))
        .order_by(delivery.c.delivered_at, delivery.c.id)
    )


MATERIALS = Prebuilt(_materials_statement())


def materials_read(project_id: int) -> tuple[Prebuilt, dict]:
    """The read of project_materials, for a page that sends its reads together
    (project_reads.homeowner_page)."""
    return MATERIALS, {"project_id": project_id}


def project_materials(project_id: int) -> list:
    """The project's delivered materials, oldest delivery first (rows: see MATERIALS)."""
    with reading() as reader:
        return reader.all(*materials_read(project_id))
