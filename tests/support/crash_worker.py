"""Worker for tests/test_crash_safety.py: writes credentials, config and history until killed.

    python tests/support/crash_worker.py HOME

HOME holds a config.json pointing at the fake server and a credentials.json. The fake server's
access tokens live less than the 5-minute refresh margin, so every `access_token()` call is a
real refresh that rotates the refresh token and saves it. Each loop also saves the credentials
again (CredentialStore.save), changes one config key (config.update) and records one history
sample (HistoryStore.record), so a SIGKILL at a random moment can land in any of those writes.

Prints `ready` once everything is imported and opened and `looped <seconds>` after its first
loop (the test kills it at a random moment of a later one), then loops until it is killed. Any error
is a finding: it prints one line to stderr and exits 3 (the test then fails with that line).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from claude_pulse import config as config_mod
from claude_pulse.core.usage import Usage, Window
from claude_pulse.home import Home
from claude_pulse.wiring import Services


def main(home_dir: str) -> int:
    home = Home(Path(home_dir))
    services = Services(home)
    tokens, store, history = services.tokens, services.credentials, services.history
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        started = time.monotonic()
        tokens.access_token()  # refresh: rotate, save the new refresh token first
        current = store.load()
        assert current is not None
        store.save(current)
        config_mod.update(home.config, poll_interval_seconds=60 + n % 600)
        now = datetime.now(timezone.utc)
        usage = Usage(Window(float(n % 100), now + timedelta(hours=2)),
                      Window(float(n % 97), now + timedelta(days=2)))
        history.record(now, usage, "api")
        if n == 1:
            print(f"looped {time.monotonic() - started:.4f}", flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    except Exception as exc:  # report, do not traceback: the test shows this line
        print(f"worker failed: {exc.__class__.__name__}: {exc}", file=sys.stderr, flush=True)
        sys.exit(3)
