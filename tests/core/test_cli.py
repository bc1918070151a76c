from sqlalchemy import func, select, text

from app import create_app
from app.core.extensions import db
from app.models import (
    ApiToken,
    AuditLog,
    Customer,
    CustomerIdentity,
    Staff,
    Store,
    TimelineEvent,
    TraceCode,
)
from app.services.customers import customers, phones
from tests.conftest import env_for_tests

MODELS = (Store, Staff, Customer, CustomerIdentity, TimelineEvent, TraceCode)


def _counts():
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def test_seed_demo_twice_leaves_the_same_rows(ctx):
    runner = ctx.test_cli_runner()
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "demo1234" in first.output
    after_first = _counts()
    assert after_first["Store"] == 2 and after_first["Customer"] == 20
    scan_url = first.output.split("scan page (24 in batch DEMO-20261101): ")[1].split()[0]
    page = ctx.test_client().get(scan_url.split("127.0.0.1:5000", 1)[1])
    assert page.status_code == 200 and "东鹏 通体大理石瓷砖" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TraceCode)) == 24
    roles = {r for s in db.session.scalars(select(Staff)) for r in s.role_set}
    assert roles == {"admin", "manager", "sales", "designer", "pm", "supervisor", "service"}
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    assert _counts() == after_first


def test_staff_create_token_revoke_round_trip(ctx):
    runner = ctx.test_cli_runner()
    created = runner.invoke(
        args=[
            "staff",
            "create",
            "--name",
            "周项目",
            "--role",
            "pm,supervisor",
            "--store",
            "城东",
            "--password",
            "pw-12345",
        ]
    )
    assert created.exit_code == 0, created.output
    token = runner.invoke(args=["staff", "token", "--name", "周项目"]).output.strip()
    client = ctx.test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["roles"] == ["pm", "supervisor"]
    assert token not in {row.token_hash for row in db.session.scalars(select(ApiToken))}
    revoked = runner.invoke(args=["staff", "revoke-token", "--name", "周项目"])
    assert "revoked 1" in revoked.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert (
        db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action.like("staff.%")))
        == 3
    )


def test_staff_create_refuses_unknown_role_and_duplicates(ctx):
    runner = ctx.test_cli_runner()
    bad = runner.invoke(args=["staff", "create", "--name", "X", "--role", "boss"])
    assert bad.exit_code != 0 and "boss" in bad.output
    runner.invoke(args=["staff", "create", "--name", "X", "--role", "sales"])
    dup = runner.invoke(args=["staff", "create", "--name", "X", "--role", "sales"])
    assert dup.exit_code != 0 and "已存在" in dup.output
    assert db.session.scalar(select(func.count(Staff.id))) == 1
    missing = runner.invoke(args=["staff", "token", "--name", "nobody"])
    assert missing.exit_code != 0


def test_data_key_rotation_keeps_phones_readable_and_findable(ctx):
    customer, _ = customers.find_or_create_by_identity("phone", "13811112222", name="钱女士")
    db.session.commit()
    old_cipher = customer.phone_enc

    rotating = create_app(
        env_for_tests(DATA_KEY="brand-new-key-0123456789abcdef,test-data-key-0123456789abcdef")
    )
    with rotating.app_context():
        # Mid-rotation: found under the old hash already.
        assert customers.find_by_identity("phone", "13811112222").id == customer.id
        result = rotating.test_cli_runner().invoke(args=["data-key", "rotate"])
        assert result.exit_code == 0, result.output

    rotated = create_app(env_for_tests(DATA_KEY="brand-new-key-0123456789abcdef"))
    with rotated.app_context():
        row = db.session.execute(text("SELECT phone_enc FROM customers")).one()
        assert row.phone_enc != old_cipher
        fresh = db.session.get(Customer, customer.id)
        assert phones.reveal(fresh.phone_enc) == "13811112222"
        assert customers.find_by_identity("phone", "13811112222").id == customer.id
        db.session.remove()


def test_the_cli_names_what_is_wrong_and_changes_nothing(ctx, tmp_path):
    """Found by a probe: each of these was accepted silently or ended in a traceback."""
    runner = ctx.test_cli_runner()
    short = runner.invoke(args=["staff", "create", "--name", "短密码", "--role", "sales",
                                "--password", "1"])  # fmt: skip
    assert short.exit_code == 1 and "8 到 128" in short.output
    assert db.session.scalar(select(func.count()).select_from(Staff)) == 0
    made = runner.invoke(args=["staff", "create", "--name", "停用员工", "--role", "sales"])
    assert made.exit_code == 0 and "created staff" in made.output
    db.session.scalars(select(Staff)).one().active = False
    db.session.commit()
    refused = runner.invoke(args=["staff", "token", "--name", "停用员工"])
    assert refused.exit_code == 1 and "已停用" in refused.output
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    missing = tmp_path / "no" / "such" / "folder" / "labels.pdf"
    labels = runner.invoke(args=["trace", "labels", "1", "--out", str(missing)])
    assert labels.exit_code != 0 and "Traceback" not in labels.output


def test_seed_demo_is_refused_in_production(ctx):
    production = create_app(env_for_tests(APP_ENV="production", REDIS_URL="redis://127.0.0.1:9/0"))
    with production.app_context():  # the command runs in the current app's context
        refused = production.test_cli_runner().invoke(args=["seed", "demo"])
        assert refused.exit_code == 1 and "production" in refused.output
        assert db.session.scalar(select(func.count()).select_from(Staff)) == 0
