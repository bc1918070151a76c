"""The scan page's catalog part is kept per web process (PostgreSQL): what staff change
shows at the next scan, in every process, and the counters are never stale."""

import pytest
from sqlalchemy import text

from app.core.extensions import db
from app.models import Project
from app.services.trace import pagecache
from tests.trace.helpers import api, deliver
from tests.trace.test_scan_page import scan

NEW_RESULTS = [{"item": "甲醛释放量", "result": "≤0.025 mg/m³ ENF"}]


def _page(client, code: str, address: str = "203.0.113.7") -> str:
    page = scan(client, code, address=address)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _second_process():
    """Another web process: its own app, so its own cache, on the same database."""
    from app import create_app
    from tests.conftest import env_for_tests

    return create_app(env_for_tests()).test_client()


def test_changed_inspection_results_show_at_the_next_scan_in_every_process(stocked):
    team, code = stocked.team, stocked.codes[0]["code"]
    other = _second_process()
    assert "放射性" in _page(team.client, code) and "放射性" in _page(other, code)
    api(team, "patch", f"/trace/batches/{stocked.batch['id']}", json={"inspection": NEW_RESULTS})
    for client, count in ((team.client, 3), (other, 4)):
        html = _page(client, code)
        assert "甲醛释放量" in html and "≤0.025 mg/m³ ENF" in html and "放射性" not in html
        assert f"已被查询 <strong>{count}</strong> 次" in html


def test_a_delivery_shows_at_the_next_scan_in_every_process(stocked):
    team, code = stocked.team, stocked.codes[2]["code"]
    other = _second_process()
    assert "该材料尚未登记进场" in _page(team.client, code)
    assert "该材料尚未登记进场" in _page(other, code)
    deliver(team, stocked.batch["id"], first_serial=1, last_serial=10)
    for client in (team.client, other):
        html = _page(client, code)
        assert "「锦绣苑」小区" in html and "尚未登记进场" not in html
    untouched = _page(other, stocked.codes[20]["code"])  # serial 21: not in the delivery
    assert "该材料尚未登记进场" in untouched


def test_codes_of_one_batch_share_the_catalog_but_not_the_counters(stocked):
    team = stocked.team
    first, second = stocked.codes[0]["code"], stocked.codes[1]["code"]
    for _ in range(3):
        _page(team.client, first)
    html = _page(team.client, second)
    assert "第 2 号" in html and "已被查询 <strong>1</strong> 次" in html
    assert "首次查询于" in html and "如果首次查询并非您" not in html
    assert f'<span class="code">{second}</span>' in html
    again = _page(team.client, first)
    assert "第 1 号" in again and "已被查询 <strong>4</strong> 次" in again


def test_what_other_rows_say_is_read_again_after_the_ttl(stocked, monkeypatch):
    team, code = stocked.team, stocked.codes[0]["code"]
    deliver(team, stocked.batch["id"])
    assert "「锦绣苑」小区" in _page(team.client, code)
    db.session.get(Project, team.project["id"]).community = "锦绣苑二期"
    db.session.commit()
    later = pagecache.monotonic() + pagecache.TTL + 1
    monkeypatch.setattr(pagecache, "monotonic", lambda: later)
    assert "「锦绣苑二期」小区" in _page(team.client, code)


def test_the_cache_keeps_entries_of_the_same_version_only():
    cache = pagecache.PageCache(ttl=60, max_entries=2)
    cache.put((1, None), "100", {"brand": "东鹏"})
    assert cache.get((1, None), "100") == {"brand": "东鹏"}
    assert cache.get((1, None), "101") is None  # the batch row changed
    assert cache.get((1, 7), "100") is None  # delivered: another key
    cache.put((1, 7), "100", {"brand": "东鹏"})
    cache.put((2, None), "5", {"brand": "马可波罗"})  # past max_entries: starts over
    assert cache.get((1, None), "100") is None and cache.get((2, None), "5") is not None


@pytest.mark.postgres
def test_the_scan_commits_asynchronously_for_its_own_transaction_only(stocked):
    """A scan's statement turns synchronous_commit off for itself; the pooled connection it
    ran on commits every later write synchronously again."""
    from app import create_app
    from app.core.database import driver_connection
    from tests.conftest import PG_URL, env_for_tests

    # A process on the server's default (the suite's own connections commit without waiting).
    durable = create_app(env_for_tests(DATABASE_URL=PG_URL))
    assert _page(durable.test_client(), stocked.codes[0]["code"])
    with durable.app_context():
        with driver_connection() as pooled:
            setting = pooled.driver_connection.execute("SHOW synchronous_commit").fetchone()[0]
        assert setting == "on"
        assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "on"
        db.session.remove()
