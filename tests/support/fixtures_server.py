"""Fixtures: server (see the owner's docstring once written)."""
