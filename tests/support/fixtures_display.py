"""Fixtures: display (see the owner's docstring once written)."""
