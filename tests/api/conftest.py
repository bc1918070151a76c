"""Fixtures of the API tests: the project site and the mini program (tests/projects/helpers.py)."""

from tests.projects.helpers import mini, site, uploads  # noqa: F401
