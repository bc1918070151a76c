"""Scan statistics and anomaly flags of a batch, for staff (issue 13).

Three rules, each a sign that a label was copied or a box relabelled:
- many_clients: one code opened by TRACE_ANOMALY_CLIENTS or more different clients within
  TRACE_ANOMALY_MINUTES (a family passing a phone round is one or two clients; a label
  photocopied onto a pallet of fakes is many);
- other_site: a code of a batch delivered to one site opened by the homeowner of another
  site (a known customer who follows projects, none of which the code, or when the code
  itself was not delivered its batch, went to);
- before_delivery: a code opened before its batch was delivered anywhere.

Flags are worked out from the stored scans whenever staff ask, so changing a setting or a
late delivery record changes them at once; `detect` is the pure rule set, tested on
generated scan patterns.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import MaterialDelivery, Project, ProjectMember, TraceCode, TraceScan

LABELS = {
    "many_clients": "短时间内多个设备扫描同一溯源码",
    "other_site": "非该工地业主扫描了已进场到其他工地的溯源码",
    "before_delivery": "批次尚未进场即被扫描",
}


@dataclass(frozen=True)
class Scan:
    code: str
    serial: int
    at: datetime
    client: str
    customer_id: int | None
    delivered_to: int | None  # the project the code itself was delivered to


@dataclass
class Flag:
    rule: str
    code: str
    serial: int
    at: datetime  # when the pattern was first seen
    detail: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS[self.rule]


def _many_clients(scans: list[Scan], clients: int, window: timedelta) -> list[Flag]:
    flags, by_code = [], defaultdict(list)
    for scan in scans:
        by_code[scan.code].append(scan)
    for code_scans in by_code.values():
        recent: deque[Scan] = deque()
        for scan in sorted(code_scans, key=lambda s: s.at):
            recent.append(scan)
            while scan.at - recent[0].at > window:
                recent.popleft()
            distinct = {s.client for s in recent}
            if len(distinct) >= clients:
                detail = {"clients": len(distinct), "since": recent[0].at.isoformat()}
                flags.append(Flag("many_clients", scan.code, scan.serial, scan.at, detail))
                break
    return flags


def _other_site(scans: list[Scan], batch_sites: set[int], homes: dict[int, set[int]]) -> list[Flag]:
    flags, seen = [], set()
    for scan in sorted(scans, key=lambda s: s.at):
        sites = {scan.delivered_to} if scan.delivered_to else batch_sites
        own = homes.get(scan.customer_id or 0, set())
        if not sites or not own or own & sites or (scan.code, scan.customer_id) in seen:
            continue
        seen.add((scan.code, scan.customer_id))
        detail = {"customer_id": scan.customer_id, "delivered_to": sorted(sites)}
        flags.append(Flag("other_site", scan.code, scan.serial, scan.at, detail))
    return flags


def _before_delivery(scans: list[Scan], first_delivery: datetime | None) -> list[Flag]:
    early: dict[str, list[Scan]] = defaultdict(list)
    for scan in scans:
        if first_delivery is None or scan.at < first_delivery:
            early[scan.code].append(scan)
    flags = []
    for code_scans in early.values():
        first = min(code_scans, key=lambda s: s.at)
        flags.append(
            Flag("before_delivery", first.code, first.serial, first.at, {"scans": len(code_scans)})
        )
    return flags


def detect(
    scans: list[Scan],
    *,
    first_delivery: datetime | None,
    batch_sites: set[int],
    homes: dict[int, set[int]],
    clients: int,
    window: timedelta,
) -> list[Flag]:
    """The flags of a batch's scans. `homes`: customer id → projects they follow;
    `batch_sites`: projects the batch went to; `first_delivery`: its first delivery's time."""
    flags = (
        _many_clients(scans, clients, window)
        + _other_site(scans, batch_sites, homes)
        + _before_delivery(scans, first_delivery)
    )
    return sorted(flags, key=lambda f: (f.at, f.serial, f.rule))


def _scans(batch_id: int) -> list[Scan]:
    rows = db.session.execute(
        select(
            TraceCode.code,
            TraceCode.serial,
            TraceScan.scanned_at,
            TraceScan.client,
            TraceScan.customer_id,
            MaterialDelivery.project_id,
        )
        .join(TraceCode, TraceCode.id == TraceScan.code_id)
        .outerjoin(MaterialDelivery, MaterialDelivery.id == TraceCode.delivery_id)
        .where(TraceScan.batch_id == batch_id)
        .order_by(TraceScan.scanned_at, TraceScan.id)
    )
    return [Scan(*row) for row in rows]


def _homes(customer_ids: set[int]) -> dict[int, set[int]]:
    """customer id → the projects they own or follow as family."""
    homes: dict[int, set[int]] = defaultdict(set)
    if not customer_ids:
        return homes
    owned = select(Project.customer_id, Project.id).where(Project.customer_id.in_(customer_ids))
    family = select(ProjectMember.customer_id, ProjectMember.project_id).where(
        ProjectMember.customer_id.in_(customer_ids)
    )
    for customer_id, project_id in db.session.execute(owned.union_all(family)):
        homes[customer_id].add(project_id)
    return homes


def for_batch(batch_id: int) -> list[Flag]:
    """The batch's anomaly flags, oldest first."""
    scans = _scans(batch_id)
    deliveries = db.session.execute(
        select(MaterialDelivery.project_id, MaterialDelivery.delivered_at).where(
            MaterialDelivery.batch_id == batch_id
        )
    ).all()
    config = current_app.config
    return detect(
        scans,
        first_delivery=min((d.delivered_at for d in deliveries), default=None),
        batch_sites={d.project_id for d in deliveries},
        homes=_homes({s.customer_id for s in scans if s.customer_id}),
        clients=config["TRACE_ANOMALY_CLIENTS"],
        window=timedelta(minutes=config["TRACE_ANOMALY_MINUTES"]),
    )


def statistics(batch_id: int) -> dict:
    """Counts of a batch's codes and scans: codes issued, delivered and ever scanned; scans
    in all, by known customers, by channel and by operating system; first and last scan."""
    code_counts = db.session.execute(
        select(
            func.count(),
            func.count(TraceCode.delivery_id),
            func.count().filter(TraceCode.scan_count > 0),
        ).where(TraceCode.batch_id == batch_id)
    ).one()
    scans = db.session.execute(
        select(
            func.count(),
            func.count(TraceScan.customer_id),
            func.min(TraceScan.scanned_at),
            func.max(TraceScan.scanned_at),
        ).where(TraceScan.batch_id == batch_id)
    ).one()

    def grouped(column) -> dict[str, int]:
        query = select(column, func.count()).where(TraceScan.batch_id == batch_id).group_by(column)
        return {str(key): count for key, count in db.session.execute(query)}

    return {
        "batch_id": batch_id,
        "codes": code_counts[0],
        "codes_delivered": code_counts[1],
        "codes_scanned": code_counts[2],
        "scans": scans[0],
        "known_customer_scans": scans[1],
        "first_scan_at": scans[2],
        "last_scan_at": scans[3],
        "by_channel": grouped(TraceScan.channel),
        "by_os": grouped(TraceScan.os),
    }
