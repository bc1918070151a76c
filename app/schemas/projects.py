"""Shapes of projects, nodes, the progress feed and change orders: one declaration for the
staff API and the mini program (the homeowner's page is the staff page's shape)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, Json

from app.schemas.base import Day, File, Files, Form, Id, Integer, Number, Out, Query, Shape, Text
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
    amount_fen: int | None = Field(description="调整金额（分）；看不到金额的角色（客服）为 null")
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
    budget: Budget | None = Field(description="预算；看不到金额的角色（客服）为 null")
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


class UploadForm(Form):
    file: File = Field(title="照片", description="一张 JPG、PNG 或 WebP")


class Upload(Out):
    photo_token: str


# Staff side: signing, listing, node updates, site logs, QC reports, change orders.


class ProjectIn(Shape):
    customer_id: Id = Field(title="客户")
    address: Text(255) = Field(title="地址")
    community: Text(100, min_length=0) = Field("", title="小区")
    area_m2: Number(Decimal(0), Decimal(999_999), decimal_places=2) | None = Field(
        None, title="面积(㎡)", description="大于 0，最多 2 位小数"
    )
    package_name: Text(100, min_length=0) = Field("", title="套餐")
    contract_amount_fen: Integer(0, 10**12) = Field(title="合同金额(分)")
    contract_date: Day | None = Field(None, title="签约日期")
    planned_start: Day | None = Field(None, title="计划开工日期")
    planned_end: Day | None = Field(None, title="计划竣工日期", description="不早于计划开工日期")
    sales_id: Id | None = Field(None, title="销售", description="省略时为客户的负责销售")
    designer_id: Id | None = Field(None, title="设计师")
    pm_id: Id | None = Field(None, title="项目经理")
    supervisor_id: Id | None = Field(None, title="监理")


class ProjectQuery(Query):
    before: Id | None = Field(None, title="游标 before", description="上一页的 next_cursor")
    limit: Integer(1, 100, title="每页条数 limit") = 20


class ProjectPage(Out):
    items: list[ProjectSummary]
    next_cursor: str | None = None


class NodePatch(Shape):
    # Only the fields sent change; a date sent as null is cleared.

    status: NodeStatus = Field(
        None, title="状态", description="按节点流程移动；已验收只能由业主确认"
    )
    planned_start: Day | None = Field(None, title="计划开始日期")
    planned_end: Day | None = Field(None, title="计划完成日期", description="不早于计划开始日期")


class RectificationIn(Shape):
    note: Text(1000, min_length=0) = Field("", title="整改说明")


class Rejection(Out):
    id: int
    node_id: int
    customer_id: int | None = None
    reason: str
    photos: list[Photo]
    created_at: str | None = None
    closed_at: str | None = None
    close_note: str | None = None


class NodeRejections(Out):
    node_id: int
    node: str
    rejection_count: int


class RejectionList(Out):
    nodes: list[NodeRejections]
    items: list[Rejection]


class LogForm(Form):
    node_id: Id | None = Field(None, title="节点")
    text: Text(2000) = Field(title="日志内容")
    photos: Files = Field([], title="照片", description="最多 9 张 JPG、PNG 或 WebP")


Hazard = Literal["low", "medium", "high"]


class FindingIn(Shape):
    text: Text(500) = Field(title="发现")
    hazard: Hazard = Field(title="隐患等级")


class ReportForm(Form):
    # photo_<i>: the photo of finding i (optional, one each), read by uploads.finding_photos.
    model_config = ConfigDict(
        json_schema_extra={
            "description": "photo_<i>：第 i 条巡检发现的照片（可选，每条一张）",
            "patternProperties": {"^photo_[0-9]+$": {"type": "string", "format": "binary"}},
        }
    )

    node_id: Id | None = Field(None, title="节点")
    text: Text(2000, min_length=0) = Field("", title="报告摘要")
    findings: Json[Annotated[list[FindingIn], Field(min_length=1, max_length=50)]] = Field(
        title="巡检发现",
        description='JSON 列表，1 到 50 项，例如 [{"text": "插座歪斜", "hazard": "low"}]',
    )


class ChangeOrderIn(Shape):
    item: Text(200) = Field(title="调整项目")
    amount_fen: Integer(-(10**11), 10**11) = Field(
        title="调整金额(分)", description="增项为正，减项为负，不能为 0"
    )
