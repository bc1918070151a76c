import threading

import pytest
from sqlalchemy import func, select, text

from app.core.extensions import db
from app.models import AuditLog, Customer, CustomerIdentity, CustomerTag, Tag, TimelineEvent
from app.services.customers import customers, phones, timeline


def test_first_contact_creates_customer_then_finds_it(ctx):
    first, created = customers.find_or_create_by_identity(
        "mp_openid", "oA1", "wxapp", nickname="小王", source_channel="qr:store1"
    )
    db.session.commit()
    again, created_again = customers.find_or_create_by_identity("mp_openid", "oA1", "wxapp")
    assert created and not created_again
    assert again.id == first.id and again.nickname == "小王" and again.source_channel == "qr:store1"
    other_app, created_other = customers.find_or_create_by_identity("mp_openid", "oA1", "wxother")
    assert created_other and other_app.id != first.id


def test_unknown_identity_kind_or_empty_value_is_refused(ctx):
    with pytest.raises(customers.IdentityError):
        customers.find_or_create_by_identity("qq", "123")
    with pytest.raises(customers.IdentityError):
        customers.find_or_create_by_identity("mp_openid", "  ")
    assert db.session.scalar(select(func.count(Customer.id))) == 0


def test_phone_is_encrypted_at_rest_hashed_for_lookup_and_masked(ctx):
    customer, _ = customers.find_or_create_by_identity("phone", "138-1234-5678")
    db.session.commit()
    raw = db.session.execute(text("SELECT phone_enc, phone_hash FROM customers")).one()
    assert "13812345678" not in raw.phone_enc and "5678" not in raw.phone_enc
    assert len(raw.phone_hash) == 64
    stored_identity = db.session.scalars(select(CustomerIdentity.value)).one()
    assert "13812345678" not in stored_identity
    assert phones.reveal(customer.phone_enc) == "13812345678"
    assert phones.masked(customer.phone_enc) == "138****5678"
    found = customers.find_by_identity("phone", "+86 13812345678")
    assert found.id == customer.id


def test_bad_phone_is_refused(ctx):
    with pytest.raises(ValueError, match="手机号"):
        customers.find_or_create_by_identity("phone", "12345")


@pytest.mark.postgres
def test_eight_concurrent_first_contacts_give_one_customer(app):
    from tests.conftest import _truncate

    _truncate(app)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                customer, _ = customers.find_or_create_by_identity("mp_openid", "oRACE", "wx1")
                db.session.commit()
                results.append(customer.id)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 8
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 1
        assert db.session.scalar(select(func.count(CustomerIdentity.id))) == 1


def _tag(customer, dim, value, **fields):
    tag = db.session.scalars(select(Tag).filter_by(dimension=dim, value=value)).first()
    if tag is None:
        tag = Tag(dimension=dim, value=value)
        db.session.add(tag)
        db.session.flush()
    db.session.add(CustomerTag(customer_id=customer.id, tag_id=tag.id, **fields))
    db.session.flush()


def test_merge_moves_identities_events_and_tags_and_is_audited(ctx):
    a, _ = customers.find_or_create_by_identity("mp_openid", "oA", "wx", name="王先生")
    b, _ = customers.find_or_create_by_identity(
        "wecom_external_userid", "wmB", "", phone="13900001111"
    )
    timeline.record(a, "message", channel="mp", dedupe_key="m1")
    timeline.record(b, "message", channel="wecom", dedupe_key="m2")
    _tag(a, "风格", "北欧", source="auto")
    _tag(b, "风格", "北欧", source="manual")
    _tag(b, "预算", "中端", source="auto")
    db.session.commit()

    customers.merge(a, b, actor="test", reason="same unionid")
    db.session.commit()

    assert db.session.get(Customer, b.id).merged_into_id == a.id
    kinds = {
        i.kind for i in db.session.scalars(select(CustomerIdentity).filter_by(customer_id=a.id))
    }
    assert kinds == {"mp_openid", "wecom_external_userid"}
    kinds_of_events = db.session.scalars(
        select(TimelineEvent.kind).filter_by(customer_id=a.id)
    ).all()
    assert sorted(kinds_of_events) == ["customer_merged", "message", "message"]
    tags = db.session.scalars(select(CustomerTag).filter_by(customer_id=a.id)).all()
    assert {(t.tag.value, t.source) for t in tags} == {("北欧", "manual"), ("中端", "auto")}
    assert phones.reveal(db.session.get(Customer, a.id).phone_enc) == "13900001111"
    assert customers.find_by_identity("wecom_external_userid", "wmB").id == a.id
    audit = db.session.scalars(select(AuditLog).filter_by(action="customer.merge")).one()
    assert audit.after["merged"] == b.id and audit.before["source"]["has_phone"] is True


def test_merged_customer_identity_resolves_to_survivor(ctx):
    a, _ = customers.find_or_create_by_identity("mp_openid", "o1", "wx")
    b, _ = customers.find_or_create_by_identity("mp_openid", "o2", "wx")
    c, _ = customers.find_or_create_by_identity("mp_openid", "o3", "wx")
    customers.merge(b, c)
    customers.merge(a, b)
    db.session.commit()
    assert db.session.get(Customer, c.id).merged_into_id == a.id
    assert customers.find_or_create_by_identity("mp_openid", "o3", "wx")[0].id == a.id
