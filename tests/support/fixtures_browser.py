"""Fixtures: browser (see the owner's docstring once written)."""
