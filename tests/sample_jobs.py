"""Jobs used by the tests (importable by a real `flask worker` process)."""

from app.core.extensions import db
from app.models import Customer
from app.services.customers import timeline
from jobs.base import job


@job
def note_job(customer_id: int, text: str) -> int:
    """Write a timeline note: proves the job ran, in an app context, after the commit."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise LookupError(f"customer {customer_id} not visible to the job")
    event = timeline.record(customer, "job_note", payload={"text": text})
    db.session.commit()
    return event.id
