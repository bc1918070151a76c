"""Fixtures of the console tests (defined in tests/console/helpers.py)."""

from tests.console.helpers import client, fresh_limits, people, wx  # noqa: F401
from tests.projects.helpers import uploads  # noqa: F401
