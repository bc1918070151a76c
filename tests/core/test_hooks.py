"""app/hooks.py is the one declaration of what runs at each hook point."""

import pytest


def test_the_hooks_are_installed_from_their_one_declaration(ctx):
    from app import hooks as declared
    from app.core import hooks

    for point in hooks.POINTS:
        assert hooks.installed(point) == tuple(declared.HOOKS.get(point, ()))
    with pytest.raises(KeyError, match="unknown hook point"):
        hooks.run("after_everything")
    with pytest.raises(KeyError, match="unknown hook point"):
        hooks.install({"after_everything": ()})
