"""Fixtures of the project and mini-program tests (defined in tests/projects/helpers.py)."""

from tests.projects.helpers import mini, site, uploads  # noqa: F401
