"""Fixtures of the referral tests (the mini-program client from tests/projects/helpers.py)."""

from tests.projects.helpers import mini, uploads  # noqa: F401
