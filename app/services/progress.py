"""Site progress: PM daily logs and supervisor QC reports, and the homeowner's feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, literal, select, tuple_

from app import cursors
from app.errors import ApiError
from app.extensions import db
from app.models import ProgressEntry, Project, ProjectNode, Staff
from app.models.progress import HAZARD_LEVELS
from app.models.types import UTCDateTime
from app.services import audit, project_notices
from app.services import timeline as timeline_service

HAZARDS = dict(HAZARD_LEVELS)
MAX_FEED_PAGE = 50


def _check_node(project: Project, node_id: int | None) -> ProjectNode | None:
    if node_id is None:
        return None
    node = db.session.get(ProjectNode, node_id)
    if node is None or node.project_id != project.id:
        raise ApiError(400, "invalid", "请求参数有误，请检查后重试",
                       fields={"node_id": "节点不属于该项目"})  # fmt: skip
    return node


def _add(project: Project, actor: Staff, kind: str, node, text: str, photos, findings):
    entry = ProgressEntry(project_id=project.id, node_id=node.id if node else None, kind=kind,
                          author_staff_id=actor.id, text=text, photos=photos,
                          findings=findings)  # fmt: skip
    db.session.add(entry)
    db.session.flush()
    payload = {"project_id": project.id, "entry_id": entry.id, "node": node.name if node else None,
               "text": text, "photos": len(photos), "findings": len(findings)}  # fmt: skip
    event_kind = "progress_log" if kind == "log" else "qc_report"
    timeline_service.record(project.customer, event_kind, channel="api", payload=payload,
                            actor_staff=actor, occurred_at=entry.created_at)  # fmt: skip
    audit.record(f"progress.{kind}", "progress_entry", entry.id, actor=actor, after=payload)
    return entry


def post_log(project: Project, actor: Staff, node_id: int | None, text: str, photos: list[dict]):
    """A PM's daily log: text and up to 9 photos against a node; the homeowner is told."""
    node = _check_node(project, node_id)
    entry = _add(project, actor, "log", node, text, photos, [])
    project_notices.log_posted(entry, node)
    return entry


def post_report(project: Project, actor: Staff, node_id: int | None, text: str, findings: list):
    """A supervisor's QC report: findings [{text, hazard, photo}]."""
    for finding in findings:
        if finding.get("hazard") not in HAZARDS:
            raise ApiError(400, "invalid", "隐患等级只能是 low/medium/high")
    node = _check_node(project, node_id)
    return _add(project, actor, "qc", node, text, [], findings)


def encode_cursor(entry: ProgressEntry) -> str:
    return cursors.encode(entry.created_at, entry.id)


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        return cursors.decode(cursor)
    except cursors.CursorError as exc:
        raise ApiError(400, "bad_cursor", str(exc)) from exc


FEED_COLUMNS = (
    ProgressEntry.id, ProgressEntry.node_id, ProgressEntry.kind, ProgressEntry.author_staff_id,
    ProgressEntry.text, ProgressEntry.photos, ProgressEntry.findings, ProgressEntry.created_at,
    ProjectNode.name.label("node_name"), Staff.name.label("author_name"),
)  # fmt: skip


def feed_query(project_id: int, before: str | None, limit: int, visible=None):
    """Newest entries first, keyset on (created_at, id): one backward index range scan,
    with the node and author names joined by primary key (one round trip a page)."""
    query = (
        select(*FEED_COLUMNS)
        .outerjoin(ProjectNode, ProjectNode.id == ProgressEntry.node_id)
        .outerjoin(Staff, Staff.id == ProgressEntry.author_staff_id)
        .where(ProgressEntry.project_id == project_id)
    )
    if visible is not None:
        query = query.where(visible)
    if before:
        when, ident = decode_cursor(before)
        query = query.where(
            tuple_(ProgressEntry.created_at, ProgressEntry.id)
            < tuple_(literal(when, UTCDateTime()), literal(ident, BigInteger()))
        )
    order = (ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
    return query.order_by(*order).limit(limit + 1)


def feed(project_id: int, before: str | None = None, limit: int = 20, visible=None):
    """(rows, next_cursor) of one project; rows carry the FEED_COLUMNS (not ORM objects).

    `visible`: a condition (projects.visible_clause) checked in the same query."""
    limit = max(1, min(limit, MAX_FEED_PAGE))
    rows = db.session.execute(feed_query(project_id, before, limit, visible)).all()
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor
