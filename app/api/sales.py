"""/api/v1 sales: assignment rules and reps' availability (admins and managers), follow-ups,
the lead pool (公海) and handing a lead to a rep."""

from __future__ import annotations

from app.api import bp, current_staff, roles
from app.core.database import load_row
from app.core.extensions import db
from app.models import AssignRule, SalesRep, Staff
from app.models import FollowUp as FollowUpRow
from app.schemas.sales import (
    AssignIn,
    FollowUp,
    FollowUpIn,
    FollowUpList,
    LeadState,
    PoolList,
    Rep,
    RepIn,
    Rule,
    RuleIn,
    RuleList,
    RulePatch,
)
from app.schemas.serializers import iso
from app.schemas.spec import API, endpoint
from app.services.customers import customers
from app.services.sales import assignment, followups, pool, rules

TAG = "销售"
EDITORS = roles("admin", "manager", message="只有管理员或店长可以管理线索分配")
CLAIMERS = roles("sales", "manager", message="只有销售顾问可以领取公海客户")


def rule_json(row: AssignRule) -> dict:
    return {"id": row.id, **rules.snapshot(row)}


def followup_json(row: FollowUpRow) -> dict:
    return {
        "id": row.id,
        "customer": {"id": row.customer_id, "name": row.customer.display_name},
        "staff_id": row.staff_id,
        "method": row.method,
        "content": row.content,
        "result": row.result,
        "next_at": iso(row.next_at),
        "created_at": iso(row.created_at),
    }


@bp.get("/assignment-rules")
@endpoint(API, ok=RuleList, allow=EDITORS, tag=TAG)
def list_assignment_rules():
    """线索分配规则（按顺序匹配）"""
    return {"items": [rule_json(r) for r in rules.all_rules()]}


@bp.post("/assignment-rules")
@endpoint(API, json=RuleIn, ok=Rule, status=201, allow=EDITORS, tag=TAG)
def create_assignment_rule(json: RuleIn):
    """新增分配规则：门店、城市/区域、来源渠道、标签，组内销售轮流分配"""
    row = rules.save(None, json.model_dump(), current_staff())
    db.session.commit()
    return rule_json(row), 201


@bp.patch("/assignment-rules/<int:rule_id>")
@endpoint(API, json=RulePatch, ok=Rule, errors=(404,), allow=EDITORS, tag=TAG)
def update_assignment_rule(rule_id: int, json: RulePatch):
    """修改分配规则（只改传入的字段）"""
    row = rules.save(rules.load(rule_id), json.model_dump(exclude_unset=True), current_staff())
    db.session.commit()
    return rule_json(row)


@bp.put("/sales-reps/<int:staff_id>")
@endpoint(API, json=RepIn, ok=Rep, errors=(404,), allow=EDITORS, tag=TAG)
def set_sales_rep(staff_id: int, json: RepIn):
    """销售顾问接线索的状态：休息、每日上限"""
    member = load_row(Staff, staff_id, missing="员工不存在")
    row: SalesRep = rules.set_rep(member, current_staff(), off=json.off, daily_cap=json.daily_cap)
    db.session.commit()
    return {"staff_id": row.staff_id, "off": row.off, "daily_cap": row.daily_cap}


@bp.post("/customers/<int:customer_id>/assign")
@endpoint(API, json=AssignIn, ok=LeadState, errors=(404,), allow=EDITORS, tag=TAG)
def assign_customer(customer_id: int, json: AssignIn):
    """把客户分配给一位销售顾问（没有规则匹配时由店长决定）"""
    customer = customers.load_for_staff(current_staff(), customer_id)
    rep = load_row(Staff, json.staff_id, missing="员工不存在")
    lead = assignment.assign_by(current_staff(), customer, rep)
    db.session.commit()
    return {"customer_id": customer.id, "state": lead.state, "owner_id": lead.owner_id}


@bp.post("/customers/<int:customer_id>/followups")
@endpoint(API, json=FollowUpIn, ok=FollowUp, status=201, errors=(404,), tag=TAG)
def log_followup(customer_id: int, json: FollowUpIn):
    """记录跟进：方式、内容、结果、下次跟进时间（到时在企业微信提醒）"""
    customer = customers.load_for_staff(current_staff(), customer_id)
    data = followups.FollowUpIn(
        json.method, json.content, json.result, followups.aware(json.next_at)
    )
    row = followups.log(current_staff(), customer, data)
    db.session.commit()
    return followup_json(row), 201


@bp.get("/followups/due")
@endpoint(API, ok=FollowUpList, tag=TAG)
def my_due_followups():
    """我今天到期和已逾期的跟进"""
    return {"items": [followup_json(r) for r in followups.due_for(current_staff())]}


@bp.get("/lead-pool")
@endpoint(API, ok=PoolList, tag=TAG)
def lead_pool():
    """本门店公海中的客户，以及今天还能领取几个"""
    staff = current_staff()
    return pool.listing(staff)


@bp.post("/lead-pool/<int:customer_id>/claim")
@endpoint(API, ok=LeadState, errors=(404, 409, 429), allow=CLAIMERS, tag=TAG)
def claim_lead(customer_id: int):
    """从公海领取客户（先到先得；每天有上限）"""
    lead = pool.claim(current_staff(), customer_id)
    db.session.commit()
    return {"customer_id": lead.customer_id, "state": lead.state, "owner_id": lead.owner_id}
