"""Shared test fixtures, one module per kind of real part (server, display, bus, browser)."""
