"""Money figures and customer service (客服): one rule (access.redact_money) for every staff
API answer and for the console. Service sees the customer and the project events, never a
contract amount, a change-order amount, a budget or a value reason quoting an amount."""

from __future__ import annotations

import pytest

from app.core.extensions import db
from app.models import CustomerValue
from app.services.customers import access
from app.services.projects import change_orders, projects
from tests.console.helpers import api_headers, customer_of, sign_in, text

CONTRACT_FEN = 18_800_000  # ¥188,000.00
CHANGE_FEN = 1_234_500  # ¥12,345.00


@pytest.fixture
def signed(people):
    customer = customer_of(people["sales"], "签约客户", budget_amount=300_000)
    project = projects.create(
        customer,
        people["manager"],
        {"address": "锦绣路 1 号", "contract_amount_fen": CONTRACT_FEN, "pm_id": people["pm"].id},
    )
    db.session.flush()
    change_orders.propose(project, people["pm"], "加装地暖", CHANGE_FEN)
    db.session.merge(  # the computed value, with known reasons
        CustomerValue(
            customer_id=customer.id,
            level="high",
            score=5,
            reasons=[
                {
                    "input": "contract",
                    "points": 3,
                    "text": "合同金额 18.8万",
                    "evidence": {"amount_fen": CONTRACT_FEN},
                },
                {"input": "stage", "points": 2, "text": "阶段:签约", "evidence": {}},
            ],
        )
    )
    db.session.commit()
    return customer, project


def _api(client, member, url):
    answer = client.get(url, headers=api_headers(member))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _money_in(data) -> list:
    """Every money figure left in an answer (MONEY_KEYS with a value)."""
    if isinstance(data, list):
        return [x for item in data for x in _money_in(item)]
    if not isinstance(data, dict):
        return []
    found = [(k, v) for k, v in data.items() if k in access.MONEY_KEYS and v is not None]
    return found + [x for v in data.values() for x in _money_in(v)]


def test_service_gets_no_money_from_the_customer_detail(client, people, signed):
    customer, _ = signed
    url = f"/api/v1/customers/{customer.id}"
    seen = _api(client, people["service"], url)
    assert seen["name"] == "签约客户" and _money_in(seen) == []
    reasons = {r["input"]: r["text"] for r in seen["value"]["reasons"]}
    assert "18.8万" not in reasons["contract"] and reasons["stage"] == "阶段:签约"
    sales = _api(client, people["sales"], url)
    assert sales["budget"]["amount"] == 300_000
    assert {r["text"] for r in sales["value"]["reasons"]} >= {"合同金额 18.8万"}


def test_service_gets_no_money_from_the_timeline(client, people, signed):
    customer, _ = signed
    url = f"/api/v1/customers/{customer.id}/timeline"
    events = _api(client, people["service"], url)["items"]
    kinds = {e["kind"] for e in events}
    assert {"project_signed", "change_order_proposed"} <= kinds
    assert _money_in(events) == []
    events = _api(client, people["sales"], url)["items"]
    amounts = {e["kind"]: e["payload"] for e in events}
    assert amounts["project_signed"]["contract_amount_fen"] == CONTRACT_FEN
    assert amounts["change_order_proposed"]["amount_fen"] == CHANGE_FEN


def test_a_project_answer_without_money_still_has_its_shape(client, people, signed):
    """A staff member with the service role and a project role sees money (the union); the
    redaction of a project leaves a valid ProjectDetail (budget null)."""
    _, project = signed
    seen = _api(client, people["pm"], f"/api/v1/projects/{project.id}")
    assert seen["budget"]["total_fen"] == CONTRACT_FEN and seen["contract_amount_fen"]
    redacted = access.redact_money(people["service"], seen)
    assert redacted["budget"] is None and _money_in(redacted) == []
    assert seen["budget"]["total_fen"] == CONTRACT_FEN  # the original is left alone


def test_service_sees_no_money_in_the_console_timeline(client, people, signed):
    customer, _ = signed
    sign_in(client, people["service"].name)
    page = text(client.get(f"/console/customers/{customer.id}"))
    assert "加装地暖" in page and "签约" in page
    assert "188,000" not in page and "12,345" not in page and "¥" not in page
    client.post("/console/logout")
    sign_in(client, people["manager"].name)
    page = text(client.get(f"/console/customers/{customer.id}"))
    assert "¥188,000.00" in page and "¥12,345.00" in page
