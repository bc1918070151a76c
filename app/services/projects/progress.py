"""Site progress: PM daily logs and supervisor QC reports, and the homeowner's feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, bindparam, exists, select, tuple_

from app.core import cursors, prebuilt
from app.core.errors import Invalid
from app.core.extensions import db
from app.models import ProgressEntry, Project, ProjectNode, Staff
from app.models.progress import HAZARD_LEVELS
from app.models.types import UTCDateTime
from app.services.customers import audit, mini_auth
from app.services.customers import timeline as timeline_service
from app.services.customers.mini_auth import HOMEOWNER
from app.services.projects import project_notices
from app.services.projects.projects import customer_scope

HAZARDS = dict(HAZARD_LEVELS)
MAX_FEED_PAGE = 50


def check_node(project: Project, node_id: int | None) -> ProjectNode | None:
    """The project's node `node_id` (None for none); Invalid (field node_id) for a node of
    another project. Callers storing photos check first, so a refusal leaves no files."""
    if node_id is None:
        return None
    node = db.session.get(ProjectNode, node_id)
    if node is None or node.project_id != project.id:
        raise Invalid("请求参数有误，请检查后重试", fields={"node_id": "节点不属于该项目"})
    return node


def _add(project: Project, actor: Staff, kind: str, node, text: str, photos, findings):
    entry = ProgressEntry(
        project_id=project.id,
        node_id=node.id if node else None,
        kind=kind,
        author_staff_id=actor.id,
        text=text,
        photos=photos,
        findings=findings,
    )
    db.session.add(entry)
    db.session.flush()
    payload = {
        "project_id": project.id,
        "entry_id": entry.id,
        "node": node.name if node else None,
        "text": text,
        "photos": len(photos),
        "findings": len(findings),
    }
    event_kind = "progress_log" if kind == "log" else "qc_report"
    timeline_service.record(
        project.customer,
        event_kind,
        channel="api",
        payload=payload,
        actor_staff=actor,
        occurred_at=entry.created_at,
    )
    audit.record(f"progress.{kind}", "progress_entry", entry.id, actor=actor, after=payload)
    return entry


def post_log(project: Project, actor: Staff, node_id: int | None, text: str, photos: list[dict]):
    """A PM's daily log: text and up to 9 photos against a node; the homeowner is told."""
    node = check_node(project, node_id)
    entry = _add(project, actor, "log", node, text, photos, [])
    project_notices.log_posted(entry, node)
    return entry


def post_report(project: Project, actor: Staff, node_id: int | None, text: str, findings: list):
    """A supervisor's QC report: at least one finding [{text, hazard, photo}]."""
    if not findings:
        raise Invalid("请求参数有误，请检查后重试", fields={"findings": "至少需要一条巡检发现"})
    for finding in findings:
        if finding.get("hazard") not in HAZARDS:
            message = "隐患等级只能是 low/medium/high"
            raise Invalid(message, fields={"findings": message})
    node = check_node(project, node_id)
    return _add(project, actor, "qc", node, text, [], findings)


def encode_cursor(entry: ProgressEntry) -> str:
    return cursors.encode(entry.created_at, entry.id)


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """(time, id) of a feed cursor; cursors.CursorError (Invalid) for one we did not issue."""
    return cursors.decode(cursor)


FEED_COLUMNS = (
    ProgressEntry.id,
    ProgressEntry.node_id,
    ProgressEntry.kind,
    ProgressEntry.author_staff_id,
    ProgressEntry.text,
    ProgressEntry.photos,
    ProgressEntry.findings,
    ProgressEntry.created_at,
    ProjectNode.name.label("node_name"),
    Staff.name.label("author_name"),
)


def _feed_statement(homeowner: bool, after_cursor: bool):
    """Newest entries first, keyset on (created_at, id): one backward index range scan,
    with the node and author names joined by primary key (one round trip a page)."""
    query = (
        select(*FEED_COLUMNS)
        .outerjoin(ProjectNode, ProjectNode.id == ProgressEntry.node_id)
        .outerjoin(Staff, Staff.id == ProgressEntry.author_staff_id)
        .where(ProgressEntry.project_id == bindparam("project_id"))
    )
    if homeowner:  # checked in the same round trip: a project this homeowner follows
        query = query.where(
            exists().where(Project.id == bindparam("project_id"), customer_scope(HOMEOWNER))
        )
    if after_cursor:
        query = query.where(
            tuple_(ProgressEntry.created_at, ProgressEntry.id)
            < tuple_(
                bindparam("before_at", type_=UTCDateTime()),
                bindparam("before_id", type_=BigInteger()),
            )
        )
    order = (ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
    return query.order_by(*order).limit(bindparam("limit", type_=Integer()))


# Built once: the feed is the page homeowners open most, and building and caching a
# statement per request cost SQLAlchemy more than PostgreSQL spends running it.
FEED_STATEMENTS = {
    (h, c): prebuilt.Prebuilt(_feed_statement(h, c)) for h in (False, True) for c in (False, True)
}


def feed_query(project_id: int, before: str | None, limit: int, session: str | None = None):
    """(Prebuilt statement, parameters) of one feed page; a homeowner's `session` limits it to a
    project they follow."""
    params = {"project_id": project_id, "limit": limit + 1}
    if session is not None:
        params.update(mini_auth.homeowner_params(session))
    if before:
        params["before_at"], params["before_id"] = decode_cursor(before)
    return FEED_STATEMENTS[(session is not None, bool(before))], params


def feed(project_id: int, before: str | None = None, limit: int = 20, session=None):
    """(rows, next_cursor) of one project; rows carry the FEED_COLUMNS (not ORM objects).

    `session`: the key of a mini-program session (mini_auth.session_key): only if its
    homeowner follows the project (no rows otherwise, and none for a dead session)."""
    limit = max(1, min(limit, MAX_FEED_PAGE))
    statement, params = feed_query(project_id, before, limit, session)
    with prebuilt.reading() as reader:  # one statement: no transaction needed
        rows = reader.all(statement, params)
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor
