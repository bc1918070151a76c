"""Fixtures of the trace tests (defined in tests/trace/helpers.py)."""

from tests.projects.helpers import mini, site, uploads  # noqa: F401
from tests.trace.helpers import fresh_limits, stocked  # noqa: F401
