"""Create forms submitted once. Each console create form (a note, a daily log, a QC report,
a change order) carries a one-time nonce issued with the page; claiming it is stored in the
same transaction as what the form creates, so the same form posted again (a double click,
back and resubmit) finds it taken and creates nothing. A refused form (Invalid) rolls the
claim back with everything else, so it can be corrected and sent again.
"""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from app.core.extensions import db
from app.models import FormSubmission, Staff

NONCE_LENGTH = 64


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def claim(staff: Staff, nonce: str, form: str) -> bool:
    """Take `nonce` for this submission: False when it was taken before (a replay)."""
    row = FormSubmission(nonce=nonce[:NONCE_LENGTH], staff_id=staff.id, form=form[:30])
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True
