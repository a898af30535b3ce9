"""One module per CLI command; each exposes `run(args, services) -> int` (the exit code)."""
