"""A fake Anthropic server on loopback, used by `--demo` and by the tests."""
