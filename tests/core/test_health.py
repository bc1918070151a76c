import json

from app import create_app
from tests.conftest import env_for_tests


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {
        "database": "ok",
        "redis": "not_configured",
    }


def test_readyz_names_redis_when_it_is_down(ctx):
    app = create_app(env_for_tests(REDIS_URL="redis://127.0.0.1:1/0"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"] != "ok" and "redis" in response.json["message"]


def test_request_id_is_echoed_and_generated(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32


def test_logs_are_one_json_object_a_line_with_the_request_id(ctx, capsys):
    app = create_app(env_for_tests(LOG_LEVEL="INFO"))
    app.test_client().get("/api/v1/me", headers={"X-Request-ID": "req-42"})
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    rejected = [line for line in lines if line.get("message") == "api error"]
    assert rejected and rejected[0]["request_id"] == "req-42" and rejected[0]["status"] == 401
    assert all("time" in line and "level" in line for line in lines)


def test_unknown_api_path_gets_json_envelope(client):
    response = client.get("/api/v1/nope")
    assert response.status_code in (401, 404)
    assert "error" in response.json
