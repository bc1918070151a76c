"""flask seed demo: idempotent demo data (stores, staff of every role, customers, a batch of
material trace codes)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.core.extensions import db
from app.models import AutoReplyRule, Customer, MaterialBatch, Project, Referral, Staff, TraceCode
from app.models.types import utcnow
from app.services.customers import customers, stages, timeline
from app.services.customers import staff as staff_service
from app.services.notices import tasks
from app.services.projects import projects
from app.services.referrals import attribution
from app.services.referrals import codes as referral_codes
from app.services.tagging import tag_rules, tagging
from app.services.trace import catalog
from app.services.trace import codes as trace_codes
from app.services.value import value

seed_cli = AppGroup("seed", help="演示数据")
DEMO_PASSWORD = "demo1234"
STORES = (("城东旗舰店", "杭州", "上城区"), ("城西体验店", "杭州", "西湖区"))
STAFF = (
    ("管理员", "admin", None),
    ("王店长", "manager", 0),
    ("李销售", "sales", 0),
    ("赵销售", "sales", 0),
    ("陈设计", "designer", 0),
    ("周项目", "pm", 0),
    ("吴监理", "supervisor", 0),
    ("郑客服", "service", 0),
    ("孙店长", "manager", 1),
    ("钱销售", "sales", 1),
    ("冯设计", "designer", 1),
    ("褚项目", "pm", 1),
    ("卫监理", "supervisor", 1),
    ("蒋客服", "service", 1),
)
SURNAMES = "张王李赵刘陈杨黄吴周徐孙马朱胡郭何高林罗"
COMMUNITIES = ("绿城桂花园", "万科良渚文化村", "滨江金色海岸", "龙湖春江天玺", "融创河滨之城")
MESSAGES = (
    "你好，我家新房毛坯120平，想做现代简约，预算20万左右",
    "想问下全包大概多少钱一平？",
    "周末可以来量房吗？",
    "老房子卫生间想翻新一下，别的不动",
    "孩子房间想做环保一点，甲醛一定要达标",
)
STAGES = ("lead", "lead", "measured", "design", "quoted", "contract", "construction", "completed")


def _ensure_staff() -> list[Staff]:
    stores = [staff_service.get_or_create_store(*s) for s in STORES]
    members = []
    for i, (name, role, store_idx) in enumerate(STAFF, 1):
        member = db.session.scalars(select(Staff).filter_by(name=name)).first()
        if member is None:
            member = staff_service.create(
                name,
                role,
                password=DEMO_PASSWORD,
                phone=f"1380000{i:04d}",
                actor="seed",
                wecom_userid=f"demo_{role}_{i}",
                store=stores[store_idx].name if store_idx is not None else None,
            )
        members.append(member)
    return members


def _ensure_customer(n: int, reps: list[Staff]) -> Customer:
    rep = reps[n % len(reps)]
    customer, _ = customers.find_or_create_by_identity(
        "mp_openid",
        f"demo-openid-{n:02d}",
        "wxdemo",
        name=f"{SURNAMES[n % len(SURNAMES)]}先生"
        if n % 2
        else f"{SURNAMES[n % len(SURNAMES)]}女士",
        phone=f"1390000{n:04d}",
        city="杭州",
        community=COMMUNITIES[n % len(COMMUNITIES)],
        source_channel="demo",
        owner_id=rep.id,
        store_id=rep.store_id,
        stage=STAGES[n % len(STAGES)],
    )
    base = utcnow() - timedelta(days=30 - n)
    for i, text in enumerate(MESSAGES[: 2 + n % 4]):
        event, created = timeline.record_once(
            customer,
            "message",
            channel="mp",
            direction="inbound",
            actor_type="customer",
            payload={"msg_type": "text", "content": text},
            occurred_at=base + timedelta(hours=i),
            dedupe_key=f"demo:{n}:{i}",
        )
        if created:
            tagging.tag_event(event)
    if n % 3 == 0:  # wrote an hour ago: the console can reply within WeChat's 48 hours
        _recent_message(customer, n)
    return customer


def _recent_message(customer: Customer, n: int) -> None:
    now = utcnow()
    event, created = timeline.record_once(
        customer,
        "message",
        channel="mp",
        direction="inbound",
        actor_type="customer",
        payload={"msg_type": "text", "content": "请问这周六可以来量房吗？"},
        occurred_at=now - timedelta(hours=1),
        dedupe_key=f"demo:{n}:recent",
    )
    if created:
        for identity in customer.identities:
            if identity.kind == "mp_openid":
                identity.last_inbound_at, identity.subscribed = event.occurred_at, True


def _ensure_site(customer: Customer, team: dict[str, Staff]) -> None:
    """A signed project for customers at 签约 and later, with the store's PM and supervisor,
    so the demo PM and supervisor logins have sites in the console."""
    if customer.stage not in ("contract", "construction", "completed"):
        return
    if db.session.scalars(select(Project.id).filter_by(customer_id=customer.id)).first():
        return
    store = customer.store_id
    pick = {
        role: next(m for m in team[role] if m.store_id == store)
        for role in ("pm", "supervisor", "designer")
    }
    fields = {
        "address": f"{customer.community} {customer.id} 幢 1201",
        "community": customer.community,
        "package_name": "全包 899 套餐",
        "contract_amount_fen": 18_800_000,
        "planned_start": utcnow().date() - timedelta(days=10),
        **{f"{role}_id": member.id for role, member in pick.items()},
    }
    manager = next(m for m in team["manager"] if m.store_id == store)
    project = projects.create(customer, manager, fields)
    first = project.nodes[0]
    first.status, first.actual_start = "in_progress", fields["planned_start"]


DEMO_REPLIES = (
    ("地址", "contains", "展厅地址：杭州市上城区望江路 88 号 城东旗舰店，欢迎预约到店参观样板间。"),
    ("报价", "exact", "请告诉我们房屋面积、户型和所在小区，顾问会在 30 分钟内给您初步报价。"),
)


def _ensure_referrals(team: dict[str, list[Staff]]) -> None:
    """口碑银行: a completed homeowner referred two leads; one of them signed (never
    contacted by a rep in the demo, so that referral waits in the review queue)."""
    completed = db.session.scalars(
        select(Customer).filter_by(stage="completed", source_channel="demo").order_by(Customer.id)
    ).first()
    leads = db.session.scalars(
        select(Customer).filter_by(stage="lead", source_channel="demo").order_by(Customer.id)
    ).all()[:2]
    done = completed is not None and db.session.scalar(
        select(Referral.id).filter_by(referrer_id=completed.id).limit(1)
    )
    if completed is None or not leads or done:
        return
    code = referral_codes.of(completed).code
    for lead in leads:
        attribution.attribute(lead, code, "mini")
    stages.change_stage(leads[0], "contract", "seed", "演示：签约")
    _ensure_site(leads[0], team)  # as the signed demo customers have


DEMO_BATCH = "DEMO-20261101"
# The sample tile and its inspection results (the trace tests and bench/trace.py use them too).
DEMO_TILE = {
    "category": "瓷砖",
    "name": "通体大理石瓷砖",
    "brand": "东鹏",
    "model": "YT8001",
    "spec": "800×800mm",
    "unit": "箱",
}
DEMO_RESULTS = [{"item": "放射性", "result": "A类"}, {"item": "吸水率", "result": "≤0.5%"}]


def _ensure_trace(manager: Staff) -> str:
    """A tile batch with 24 trace codes (not delivered: a delivery would notify a demo
    homeowner through WeChat); the URL of its first code's scan page."""
    batch = db.session.scalars(select(MaterialBatch).filter_by(batch_no=DEMO_BATCH)).first()
    if batch is None:
        supplier = catalog.create_supplier(
            {"name": "佛山建材（演示）", "credit_code": "", "note": ""}
        )
        material = catalog.create_material(DEMO_TILE)
        fields = {
            "material_id": material.id,
            "supplier_id": supplier.id,
            "batch_no": DEMO_BATCH,
            "quantity": 24,
            "report_no": "GT2026-0921",
            "inspection_agency": "国家建筑材料质量检验检测中心",
            "inspection": DEMO_RESULTS,
        }
        batch = catalog.create_batch(fields, manager)
        trace_codes.generate(batch, 24)
    first = db.session.scalars(
        select(TraceCode.code).filter_by(batch_id=batch.id).order_by(TraceCode.serial)
    ).first()
    return trace_codes.url(first)


def _ensure_replies() -> None:
    if db.session.scalars(select(AutoReplyRule.id)).first() is None:
        for keyword, match, reply in DEMO_REPLIES:
            db.session.add(AutoReplyRule(keyword=keyword, match=match, reply=reply))


@seed_cli.command("demo")
@click.option("--force", is_flag=True, help="也在 APP_ENV=production 下写入演示数据")
def demo(force: bool):
    """Load demo data; running it again changes nothing. Refused in production (its demo
    logins share one known password) unless --force."""
    if current_app.config.get("APP_ENV") == "production" and not force:
        raise click.ClickException(
            "APP_ENV=production：演示数据含公开的演示密码，不写入生产库（确需写入请加 --force）"
        )
    _ensure_replies()
    members = _ensure_staff()
    tag_rules.load_defaults(actor="seed")
    reps = [m for m in members if m.has_role("sales")]
    team = {
        r: [m for m in members if m.has_role(r)]
        for r in ("pm", "supervisor", "designer", "manager")
    }
    for n in range(1, 21):
        customer = _ensure_customer(n, reps)
        _ensure_site(customer, team)
        if n % 4 == 1:
            tasks.create(
                "dormant_lead",
                f"{customer.display_name}已有一段时间没有互动，请跟进",
                staff_id=customer.owner_id,
                customer_id=customer.id,
                text=f"{customer.display_name}您好，最近装修的事考虑得怎么样了？可以先帮您免费量房出方案。",
                dedupe_key=f"demo:task:{n}",
            )
    _ensure_referrals(team)
    scan_url = _ensure_trace(team["manager"][0])
    value.recompute_due()  # customer value of those no hook assessed yet
    db.session.commit()
    click.echo(f"demo data ready: {len(STORES)} stores, {len(members)} staff, 20 customers")
    click.echo(
        f"demo logins (password {DEMO_PASSWORD}): " + ", ".join(f"{n}/{r}" for n, r, _ in STAFF)
    )
    click.echo("staff console: http://127.0.0.1:5000/ (sign in with a name above, or its phone)")
    click.echo(f"a material trace code's scan page (24 in batch {DEMO_BATCH}): {scan_url}")
