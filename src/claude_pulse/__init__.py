"""Claude Pulse: a tray monitor for Claude Pro/Max rate limits."""

__version__ = "0.1.0"
