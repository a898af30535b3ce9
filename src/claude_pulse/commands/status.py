"""`claude-pulse status [--json]`: fetch usage now (refreshing the token if needed) and print it.

Exit codes: 0 when numbers were printed — fresh, or the last good ones during a shared 429
cooldown (we chose not to call). 1 for every failure, with one line on stderr; the last good
numbers, marked stale, are still printed to stdout when we have them.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from claude_pulse.core.report import status_json, status_text
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.errors import AuthError, CooldownActive, CredentialsError, PulseError
from claude_pulse.wiring import Services

__all__ = ["run"]


def run(args: argparse.Namespace, services: Services) -> int:
    for problem in services.settings.problems:
        print(f"claude-pulse: {problem}", file=sys.stderr)
    try:
        services.login.check()
    except (AuthError, CredentialsError) as exc:
        if not services.login.uses_claude_code:
            raise
        # Claude Code's login is not ours to renew: say so, and show what we have.
        return _print_cached(args, services, exc, None, exit_code=1)
    try:
        snapshot = services.fetcher.fetch()
    except CooldownActive as exc:
        return _print_cached(args, services, exc, exc.until, exit_code=0)
    except PulseError as exc:
        return _print_cached(args, services, exc, None, exit_code=1)
    assert snapshot is not None
    if snapshot.usage.problems:
        print(f"claude-pulse: ignored an impossible value in the usage answer: "
              f"{'; '.join(snapshot.usage.problems)}", file=sys.stderr)
    _print(args, services, snapshot, None, None)
    return 0


def _print_cached(args: argparse.Namespace, services: Services, exc: PulseError,
                  next_try: datetime | None, exit_code: int) -> int:
    cached = services.fetcher.last()
    if cached is None:
        raise exc
    print(f"claude-pulse: {exc} (showing the last good numbers)", file=sys.stderr)
    _print(args, services, cached, str(exc), next_try)
    return exit_code


def _print(args: argparse.Namespace, services: Services, snap: Snapshot,
           stale_reason: str | None, next_try: datetime | None) -> None:
    now = services.clock()
    account = services.login.email
    login_end = services.login.login_expires_at
    session, weekly = services.trends(snap.usage, now)
    forecasts = (session.forecast, weekly.forecast)
    if args.json:
        out = status_json(snap.usage, snap.fetched_at, now, stale_reason=stale_reason,
                          next_try=next_try, account=account, source=snap.source,
                          forecasts=forecasts, login_expires_at=login_end)
        print(json.dumps(out, indent=2))
    else:
        print(status_text(snap.usage, snap.fetched_at, now, stale_reason=stale_reason,
                          account=account, forecasts=forecasts, login_expires_at=login_end,
                          hour24=services.settings.current().hour24))
