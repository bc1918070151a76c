"""Who sees which customer: one rule (access.customer_scope) for the staff API and the console.

For every role: a customer they may see opens in both; one they may not is 404 in both,
exactly like a customer that does not exist."""

from __future__ import annotations

import pytest

from app.core.extensions import db
from app.models import Customer
from app.services.customers import access
from tests.console.helpers import api_headers, customer_of, post, project_for, sign_in, text


@pytest.fixture
def world(people):
    """Customers: the rep's, the other rep's, one of the west store, and one on a project
    whose designer, PM and supervisor are the store's."""
    p = people
    mine = customer_of(p["sales"], "李的客户")
    theirs = customer_of(p["sales2"], "赵的客户")
    west = customer_of(p["west_sales"], "城西客户")
    on_site = customer_of(p["sales2"], "工地客户")
    project = project_for(
        on_site, actor=p["manager"], designer=p["designer"], pm=p["pm"], supervisor=p["supervisor"]
    )
    project.contract_amount_fen = 18_800_000
    db.session.commit()
    return {"mine": mine, "theirs": theirs, "west": west, "on_site": on_site}


def _status(client, member, customer: Customer) -> tuple[int, int]:
    """(staff API status, console status) of this customer for this staff member."""
    api = client.get(f"/api/v1/customers/{customer.id}", headers=api_headers(member)).status_code
    console = client.get(f"/console/customers/{customer.id}").status_code
    return api, console


CASES = [
    # role, may see, may not see
    ("sales", ["mine"], ["theirs", "west", "on_site"]),
    ("manager", ["mine", "theirs", "on_site"], ["west"]),
    ("designer", ["on_site"], ["mine", "theirs", "west"]),
    ("pm", ["on_site"], ["mine", "theirs", "west"]),
    ("supervisor", ["on_site"], ["mine", "theirs", "west"]),
    ("service", ["mine", "theirs", "west", "on_site"], []),
    ("admin", ["mine", "theirs", "west", "on_site"], []),
    ("west_manager", ["west"], ["mine", "theirs", "on_site"]),
    ("west_pm", [], ["mine", "theirs", "west", "on_site"]),
]


@pytest.mark.parametrize(("role", "visible", "hidden"), CASES, ids=[c[0] for c in CASES])
def test_each_role_sees_its_customers_and_gets_404_for_others(
    client, people, world, role, visible, hidden
):
    member = people[role]
    assert sign_in(client, member.name).status_code == 302
    for key in visible:
        assert _status(client, member, world[key]) == (200, 200), key
    for key in hidden:
        assert _status(client, member, world[key]) == (404, 404), key
    # A customer that does not exist reads exactly the same as one that is not yours.
    assert _status(client, member, Customer(id=987654)) == (404, 404)


@pytest.mark.parametrize(("role", "visible", "hidden"), CASES, ids=[c[0] for c in CASES])
def test_the_list_shows_exactly_the_customers_in_scope(
    client, people, world, role, visible, hidden
):
    member = people[role]
    sign_in(client, member.name)
    page = text(client.get("/console/customers"))
    listed = client.get("/api/v1/customers", headers=api_headers(member)).get_json()["items"]
    for key in visible:
        assert world[key].name in page
        assert world[key].id in {c["id"] for c in listed}
    for key in hidden:
        assert world[key].name not in page
        assert world[key].id not in {c["id"] for c in listed}


def test_merged_away_customers_are_seen_by_no_one(client, people, world):
    world["theirs"].merged_into_id = world["mine"].id
    db.session.commit()
    for role in ("admin", "service", "manager", "sales2"):
        assert not access.can_see(people[role], world["theirs"])


def test_service_sees_every_customer_but_no_money(client, people, world):
    sign_in(client, people["service"].name)
    page = text(client.get(f"/console/customers/{world['on_site'].id}"))
    assert "工地客户" in page and "¥" not in page and "188,000" not in page
    post(client, "/console/logout")
    sign_in(client, people["manager"].name)
    page = text(client.get(f"/console/customers/{world['on_site'].id}"))
    assert "¥188,000.00" in page


def test_a_deactivated_account_sees_nothing(people, world):
    member = people["admin"]
    member.active = False
    assert not access.can_see(member, world["mine"])


def test_service_gets_no_budget_from_the_staff_api(client, people, world):
    customer = world["mine"]
    customer.budget_amount = 200_000
    db.session.commit()
    url = f"/api/v1/customers/{customer.id}"
    assert client.get(url, headers=api_headers(people["service"])).get_json()["budget"] is None
    seen = client.get(url, headers=api_headers(people["sales"])).get_json()["budget"]
    assert seen["amount"] == 200_000


def test_the_staff_api_searches_by_tag_and_a_tag_no_one_has_is_an_empty_page(client, people, world):
    from app.services.tagging import tagging

    tagging.add_manual_tag(world["mine"], "风格:北欧", people["sales"])
    db.session.commit()
    headers = api_headers(people["sales"])

    def listed(query: str):
        response = client.get(f"/api/v1/customers?{query}", headers=headers)
        return response.status_code, response.get_json()

    status, body = listed("tag=风格:北欧")
    assert status == 200 and [c["id"] for c in body["items"]] == [world["mine"].id]
    for query in ("tag=风格:不存在", "tag=没有:北欧", "tag=风格:北欧&q=不存在的名字"):
        assert listed(query) == (200, {"items": [], "next_cursor": None}), query
    status, body = listed("tag=北欧")  # not 维度:值
    assert status == 400 and "维度:值" in body["error"]["fields"]["tag"]
    # Another rep's customer with the tag stays out of the rep's page.
    tagging.add_manual_tag(world["theirs"], "风格:北欧", people["sales2"])
    db.session.commit()
    assert [c["id"] for c in listed("tag=风格:北欧")[1]["items"]] == [world["mine"].id]
