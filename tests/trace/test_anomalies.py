"""Anomaly rules: they fire on generated scan patterns of fakes, not on normal ones."""

from datetime import UTC, datetime, timedelta

from app.services.trace.anomalies import Scan, detect
from tests.projects.helpers import owner_headers, sign
from tests.trace.helpers import api, deliver
from tests.trace.test_scan_page import scan

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DELIVERED = T0 - timedelta(days=3)
SITE_A, SITE_B = 1, 2


def scans(pattern) -> list[Scan]:
    """(code, minutes after T0, client, customer) → Scan rows; every code went to SITE_A."""
    return [
        Scan(code, int(code[1:]), T0 + timedelta(minutes=m), client, customer, SITE_A)
        for code, m, client, customer in pattern
    ]


def rules(pattern, homes=None, first_delivery=DELIVERED) -> list[tuple[str, str]]:
    flags = detect(
        scans(pattern),
        first_delivery=first_delivery,
        batch_sites={SITE_A},
        homes=homes or {},
        clients=5,
        window=timedelta(minutes=60),
    )
    return [(f.rule, f.code) for f in flags]


def test_normal_patterns_raise_nothing():
    family = [("C1", m, c, None) for m, c in ((0, "phone-a"), (2, "phone-b"), (30, "phone-a"))]
    one_phone = [("C2", m, "phone-c", None) for m in range(0, 200, 4)]  # 50 scans, one phone
    slow = [("C3", m * 120, f"phone-{m}", None) for m in range(10)]  # 10 phones over 20 hours
    owner = [("C4", 5, "phone-d", 7)]
    prospect = [("C5", 6, "phone-e", 8)]  # a known customer with no site of their own
    assert rules(family + one_phone + slow + owner + prospect, homes={7: {SITE_A}}) == []


def test_many_clients_in_a_short_time():
    burst = [("C1", m, f"phone-{m}", None) for m in range(0, 50, 10)]  # 5 phones in 40 minutes
    four = [("C2", m, f"other-{m}", None) for m in range(0, 40, 10)]
    assert rules(burst + four) == [("many_clients", "C1")]


def test_another_sites_homeowner():
    pattern = [("C1", 0, "phone-a", 7), ("C1", 5, "phone-a", 7), ("C2", 0, "phone-b", 9)]
    homes = {7: {SITE_B}, 9: {SITE_A, SITE_B}}  # 9 follows both sites as family
    assert rules(pattern, homes) == [("other_site", "C1")]


def test_scanned_before_the_batch_was_delivered():
    pattern = [
        ("C1", -5000, "phone-a", None),
        ("C1", -4000, "phone-a", None),
        ("C2", 0, "phone-b", None),
    ]
    assert rules(pattern) == [("before_delivery", "C1")]
    assert rules([("C3", 0, "phone-c", None)], first_delivery=None) == [("before_delivery", "C3")]


def test_the_staff_api_flags_a_copied_label_and_another_sites_homeowner(stocked, mini):
    team, batch = stocked.team, stocked.batch
    url = f"/trace/batches/{batch['id']}"
    early = stocked.codes[0]["code"]
    assert scan(team.client, early).status_code == 200  # before any delivery
    deliver(team, batch["id"], first_serial=1, last_serial=10)
    copied = stocked.codes[1]["code"]
    for i in range(6):  # six different phones on six networks within seconds
        assert (
            scan(
                team.client,
                copied,
                ua=f"Mozilla/5.0 (Linux; Android 1{i}) Mobile",
                address=f"198.51.{i}.1",
            ).status_code
            == 200
        )
    normal = stocked.codes[2]["code"]
    for _ in range(3):
        scan(team.client, normal)
    flags = api(team, "get", f"{url}/anomalies", headers=team.manager_h).json["items"]
    assert [(f["rule"], f["serial"]) for f in flags] == [
        ("before_delivery", 1),
        ("many_clients", 2),
    ]
    assert flags[1]["detail"]["clients"] == 5 and flags[1]["label"]
    stats = api(team, "get", f"{url}/stats", headers=team.manager_h).json
    assert (stats["codes"], stats["codes_delivered"], stats["codes_scanned"], stats["scans"]) == (
        30,
        10,
        3,
        10,
    )
    assert stats["by_channel"] == {"web": 10} and stats["known_customer_scans"] == 0
    api(team, "get", f"{url}/anomalies", 403, headers=team.sales_h)
    api(team, "get", f"{url}/stats", 403, headers=team.pm_h)


def test_a_homeowner_of_another_site_scanning_in_the_mini_program_is_flagged(stocked, mini):
    from app.core.extensions import db
    from app.models import Customer

    team, batch = stocked.team, stocked.batch
    deliver(team, batch["id"])  # all 30 codes to 锦绣苑
    neighbour = Customer(name="李业主", owner_id=team.sales.id, store_id=team.sales.store_id)
    db.session.add(neighbour)
    db.session.commit()
    team.customer = neighbour
    sign(team, community="翠湖天地", address="翠湖路 1 号")
    headers = owner_headers(team, mini, openid="oNeighbour01")
    code = stocked.codes[7]["code"]
    assert mini.get(f"/mini/v1/trace/{code}", headers=headers).status_code == 200
    flags = api(team, "get", f"/trace/batches/{batch['id']}/anomalies").json["items"]
    assert [(f["rule"], f["code"], f["detail"]["customer_id"]) for f in flags] == [
        ("other_site", code, neighbour.id)
    ]
