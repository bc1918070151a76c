"""The homeowner's project page, read with statements built once (as the feed is).

Homeowners open this page every day of 施工; building the statements per request cost
SQLAlchemy more than PostgreSQL spends running them, so they run as app.prebuilt
statements. Rows, not ORM objects, come back: the serializers read the same attribute names
from either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from app.core.prebuilt import Prebuilt, reading
from app.models import ChangeOrder, Project, ProjectNode, Staff
from app.services.customers import mini_auth
from app.services.customers.mini_auth import HOMEOWNER
from app.services.projects.projects import customer_scope

TEAM = ("sales", "designer", "pm", "supervisor")


def _project_statement():
    """The project with its team's names, if this homeowner follows it: one round trip."""
    table = Project.__table__
    staff = {role: Staff.__table__.alias(f"{role}_staff") for role in TEAM}
    joined = table
    for role, alias in staff.items():
        joined = joined.outerjoin(alias, alias.c.id == table.c[f"{role}_id"])
    names = [alias.c.name.label(f"{role}_name") for role, alias in staff.items()]
    return (
        select(*table.c, *names)
        .select_from(joined)
        .where(Project.id == bindparam("project_id"), customer_scope(HOMEOWNER))
    )


PROJECT = Prebuilt(_project_statement())
NODES = Prebuilt(
    select(*ProjectNode.__table__.c)
    .where(ProjectNode.project_id == bindparam("project_id"))
    .order_by(ProjectNode.position, ProjectNode.id)
)
ORDERS = Prebuilt(
    select(*ChangeOrder.__table__.c)
    .where(ChangeOrder.project_id == bindparam("project_id"))
    .order_by(ChangeOrder.id)
)


@dataclass(frozen=True)
class ProjectPage:
    project: Any  # a row of PROJECT
    nodes: list
    orders: list
    extra: tuple[list, ...] = ()  # the rows of homeowner_page's `extra` reads, in order

    @property
    def team(self) -> dict:
        """{role: {id, name} | None}, as projects.team gives for an ORM project."""
        row = self.project
        return {
            role: {"id": getattr(row, f"{role}_id"), "name": getattr(row, f"{role}_name")}
            if getattr(row, f"{role}_name") is not None
            else None
            for role in TEAM
        }


def homeowner_page(
    session: str, project_id: int, extra: tuple[tuple[Prebuilt, dict], ...] = ()
) -> ProjectPage | None:
    """Project, nodes and change orders, if the homeowner of this mini-program session (its
    key, mini_auth.session_key) follows it; None otherwise, or when the session is dead.

    `extra`: more reads of the page, (Prebuilt, values) from other domains (its materials),
    sent in the same round trip; their rows are the page's `extra`."""
    params = {"project_id": project_id, **mini_auth.homeowner_params(session)}
    ids = {"project_id": project_id}
    with reading() as reader:  # every read of the page, one round trip, no transaction
        project, nodes, orders, *rest = reader.together(
            (PROJECT, params), (NODES, ids), (ORDERS, ids), *extra
        )
    # The rest is read alongside, but shown only when the project is the homeowner's.
    return ProjectPage(project[0], nodes, orders, tuple(rest)) if project else None
