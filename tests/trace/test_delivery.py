"""材料进场: a batch or a range of its codes to a project, the homeowner told, material lists."""

from sqlalchemy import select

from app.core.extensions import db
from app.models import Notice, TimelineEvent, TraceCode
from tests.projects.helpers import owner_headers, sign
from tests.trace.helpers import api, deliver, make_batch, make_codes


def test_delivering_a_batch_tells_the_homeowner_and_lists_the_material(stocked, mini):
    team, batch = stocked.team, stocked.batch
    delivery = deliver(team, batch["id"], headers=team.pm_h).json
    assert (delivery["first_serial"], delivery["last_serial"], delivery["code_count"]) == (
        1,
        30,
        30,
    )
    first = stocked.codes[0]["code"]
    event = db.session.scalars(select(TimelineEvent).filter_by(kind="material_delivered")).one()
    assert event.customer_id == team.customer.id and event.payload["trace_code"] == first
    assert event.payload["brand"] == "东鹏" and event.actor_staff_id == team.pm.id
    notice = db.session.scalars(select(Notice).filter_by(kind="material-delivered")).one()
    assert (
        notice.customer_id == team.customer.id
        and notice.idem_key == f"material-delivered:delivery:{delivery['id']}"
    )
    assert f"http://127.0.0.1:5000/t/{first}" in notice.payload["text"]
    assert "东鹏通体大理石瓷砖" in notice.payload["text"] and "锦绣苑" in notice.payload["text"]

    staff_list = api(
        team, "get", f"/projects/{team.project['id']}/materials", headers=team.pm_h
    ).json
    (item,) = staff_list["items"]
    assert item["brand"] == "东鹏" and item["batch_no"] == "B20261101" and item["code_count"] == 30
    assert (
        item["trace_url"] == f"http://127.0.0.1:5000/t/{first}"
        and item["inspection"][0]["result"] == "A类"
    )
    homeowner = owner_headers(team, mini)
    page = mini.get(f"/mini/v1/projects/{team.project['id']}", headers=homeowner)
    assert page.status_code == 200 and page.json["materials"] == staff_list["items"]
    detail = api(team, "get", f"/projects/{team.project['id']}", headers=team.pm_h).json
    assert detail["materials"] == staff_list["items"]


def test_a_range_goes_to_one_site_only(stocked):
    team, batch = stocked.team, stocked.batch
    deliver(team, batch["id"], first_serial=1, last_serial=10)
    other = sign(team, community="翠湖天地", address="翠湖路 1 号")
    overlap = deliver(
        team, batch["id"], 409, project_id=other["id"], first_serial=10, last_serial=20
    )
    assert "已登记进场" in overlap.json["error"]["message"]
    rest = deliver(team, batch["id"], project_id=other["id"]).json  # what is left: 11..30
    assert (rest["first_serial"], rest["last_serial"], rest["code_count"]) == (11, 30, 20)
    deliver(team, batch["id"], 409, project_id=other["id"])  # nothing left
    deliver(team, batch["id"], 400, first_serial=5, last_serial=99)
    sites = db.session.execute(
        select(TraceCode.serial, TraceCode.delivery_id).order_by(TraceCode.serial)
    ).all()
    assert {d for s, d in sites if s <= 10} == {1} and {d for s, d in sites if s > 10} == {
        rest["id"]
    }
    listed = api(team, "get", f"/trace/batches/{batch['id']}/deliveries").json["items"]
    assert [d["project_id"] for d in listed] == [team.project["id"], other["id"]]


def test_delivery_checks_roles_projects_and_codes(site):
    batch = make_batch(site)
    deliver(site, batch["id"], 409)  # no codes yet
    make_codes(site, batch["id"], 3)
    deliver(site, batch["id"], 403, headers=site.sales_h)
    deliver(site, batch["id"], 404, project_id=987654)
    deliver(site, batch["id"], 400, delivered_at="2099-01-01T00:00:00+08:00")
    assert db.session.scalar(select(TimelineEvent).filter_by(kind="material_delivered")) is None
    done = deliver(site, batch["id"], delivered_at="2026-11-02T09:30:00").json
    assert done["delivered_at"] == "2026-11-02T01:30:00+00:00"  # a time without zone is Shanghai's
