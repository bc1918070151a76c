"""The database down: every surface answers 503 (retry later), never a 500 (a bug)."""

import pytest

from app import create_app
from tests.conftest import env_for_tests

# A PostgreSQL URL on a closed port: every query fails as a server that is down would.
DOWN = "postgresql+psycopg://postgres@127.0.0.1:9/down?connect_timeout=1"


@pytest.fixture
def down():
    return create_app(env_for_tests(DATABASE_URL=DOWN)).test_client()


def test_the_apis_answer_503_in_the_envelope_when_the_database_is_down(down):
    """Found by a probe: the API, the mini program, the console and /t/ answered 500."""
    from app.services.customers.staff import TOKEN_PREFIX

    tokens = {"/api/v1/me": TOKEN_PREFIX + "x" * 43, "/mini/v1/me": "x" * 43}
    for path, token in tokens.items():
        answer = down.get(path, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 503, path
        assert answer.json["error"]["code"] == "database_unavailable"


def test_pages_answer_503_when_the_database_is_down(down):
    trace = down.get("/t/ABCDEFGHJKMNPQRST")
    assert trace.status_code == 503 and "暂时不可用" in trace.get_data(as_text=True)
    signin = down.post("/console/login", data={"login": "李销售", "password": "x" * 8})
    assert signin.status_code in (400, 503)  # 400: the form's CSRF check comes first
