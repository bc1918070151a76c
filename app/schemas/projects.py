"""Shapes of projects, nodes, the progress feed and change orders: one declaration for the
staff API and the mini program (the homeowner's page is the staff page's shape)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.base import Integer, Out, Shape, Text
from app.schemas.trace import ProjectMaterial

NodeStatus = Literal["not_started", "in_progress", "pending_acceptance", "accepted", "rectifying"]


class Photo(Out):
    url: str | None
    thumb_url: str | None
    width: int | None = None
    height: int | None = None


class Node(Out):
    id: int
    name: str
    position: int | None = None
    status: NodeStatus
    status_label: str
    planned_start: str | None = None
    planned_end: str | None = None
    actual_start: str | None = None
    actual_end: str | None = None
    accepted_at: str | None = None
    accepted_by_customer_id: int | None = None
    rejection_count: int = 0
    delayed: bool


class Budget(Out):
    contract_fen: int
    approved_changes_fen: int
    total_fen: int


class ChangeOrder(Out):
    id: int
    project_id: int | None = None
    item: str
    amount_fen: int
    status: Literal["proposed", "approved", "rejected"]
    status_label: str | None = None
    reason: str | None = None
    created_at: str | None = None
    decided_at: str | None = None


class Progress(Out):
    accepted: int
    total: int
    text: str
    current_node: str | None = None


class ProjectSummary(Out):
    id: int
    customer_id: int | None = None
    address: str | None = None
    community: str | None = None
    package_name: str | None = None
    status: str | None = None
    status_label: str | None = None
    progress: Progress
    delayed: bool = False


class ProjectDetail(ProjectSummary):
    area_m2: str | None = None
    contract_amount_fen: int | None = None
    contract_date: str | None = None
    planned_start: str | None = None
    planned_end: str | None = None
    actual_completion: str | None = None
    team: dict | None = None
    nodes: list[Node]
    budget: Budget
    change_orders: list[ChangeOrder] = []
    materials: list[ProjectMaterial] = []  # delivered materials (材料进场)


class ProjectList(Out):
    items: list[ProjectSummary]


class Finding(Out):
    text: str
    hazard: str | None
    hazard_label: str | None = None
    photo: Photo | None = None


class FeedEntry(Out):
    id: int
    kind: Literal["log", "qc"]
    kind_label: str | None = None
    node_id: int | None = None
    node: str | None = None
    text: str
    photos: list[Photo]
    findings: list[Finding]
    author: dict | None = None
    created_at: str | None


class FeedPage(Out):
    items: list[FeedEntry]
    next_cursor: str | None = None


class FeedQuery(Shape):
    before: Text(200) | None = Field(None, title="游标 before")
    limit: Integer(1, 50, title="每页条数 limit") = 20


class Decision(Out):
    change_order: ChangeOrder
    budget: Budget


class DecisionIn(Shape):
    reason: Text(500) | None = Field(None, title="原因")


class RejectionIn(Shape):
    reason: Text(1000) = Field(title="不通过原因")
    photos: list[Text(2000)] = Field([], max_length=9, title="照片")


class Upload(Out):
    photo_token: str
