"""Fixtures: dbus (see the owner's docstring once written)."""
