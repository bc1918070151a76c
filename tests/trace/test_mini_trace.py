"""GET /mini/v1/trace/<code>: the homeowner's scan from the mini program."""

from sqlalchemy import select

from app.core.extensions import db
from app.models import TimelineEvent, TraceScan
from tests.projects.helpers import owner_headers
from tests.trace.helpers import deliver


def test_the_mini_program_shows_the_code_and_records_the_homeowner(stocked, mini):
    team = stocked.team
    deliver(team, stocked.batch["id"])
    headers = owner_headers(team, mini)
    code = stocked.codes[2]["code"]
    body = mini.get(f"/mini/v1/trace/{code}", headers=headers)
    assert body.status_code == 200, body.json
    data = body.json
    assert data["material"]["brand"] == "东鹏" and data["batch_no"] == "B20261101"
    assert data["delivered"]["community"] == "锦绣苑" and data["scan_count"] == 1
    assert (
        data["inspection"][0] == {"item": "放射性", "result": "A类"} and data["report_url"] is None
    )
    assert "锦绣路" not in body.get_data(as_text=True) and "张业主" not in body.get_data(
        as_text=True
    )
    (row,) = db.session.scalars(select(TraceScan)).all()
    assert (row.channel, row.customer_id) == ("mini", team.customer.id)
    event = db.session.scalars(select(TimelineEvent).filter_by(kind="material_scanned")).one()
    assert event.customer_id == team.customer.id and event.channel == "mini"
    assert event.payload["project_id"] == team.project["id"]


def test_unknown_code_is_404_with_the_warning_and_login_is_required(stocked, mini):
    headers = owner_headers(stocked.team, mini)
    missing = mini.get("/mini/v1/trace/2222222222222222A", headers=headers)
    assert missing.status_code == 404
    assert missing.json["error"]["message"] == "未查询到该溯源码，请谨慎购买"
    assert mini.get(f"/mini/v1/trace/{stocked.codes[0]['code']}").status_code == 401
