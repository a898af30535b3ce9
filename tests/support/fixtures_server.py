"""Fixtures: the fake Anthropic server on loopback, and a config.json pointing the app at it.

`fake_server` is a started `FakeAnthropic` (stopped after the test); script it with
`fake_server.queue(...)`. `fake_config` writes `config.json` into the test's CLAUDE_PULSE_HOME with
the fake's URLs and `callback_port: 0`, and returns its path. `seed_credentials` saves tokens the
fake issued, as if the user had logged in; `logged_in` is that plus one good `status` run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.core.tokens import TokenSet
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.services.credentials import CredentialStore

__all__ = ["fake_config", "fake_server", "logged_in", "seed_credentials"]


@pytest.fixture
def fake_server() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_config(pulse_home: Path, fake_server: FakeAnthropic) -> Path:
    pulse_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = pulse_home / "config.json"
    # Keep whatever a test wrote first; the fake's URLs win.
    existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    config = {**existing, **fake_server.config_overrides(), "callback_port": 0}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def seed_credentials(home: Path, fake: FakeAnthropic, *, now: datetime | None = None,
                     expires_in: float | None = None, scope: str | None = None) -> TokenSet:
    """Tokens the fake issued, saved in `home` as a login would save them (its account's email).

    The access token expires `expires_in` seconds (default: the fake's lifetime) after `now`
    (default: the real time; a test on a fake clock passes its own).
    """
    minted = fake.issue_tokens(**({"scope": scope} if scope else {}))
    tokens = TokenSet(
        access_token=minted["access_token"], refresh_token=minted["refresh_token"],
        expires_at=(now or datetime.now(timezone.utc))
        + timedelta(seconds=float(expires_in or minted["expires_in"])),
        scope=str(minted.get("scope", "")), email=minted["account"]["email_address"],
    )
    CredentialStore(home / "credentials.json").save(tokens)
    return tokens


@pytest.fixture
def logged_in(fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path) -> Path:
    """The home after a login and one good `claude-pulse status` (a real process): tokens the
    fake issued, and a fresh snapshot.json every process may show."""
    from support.os_faults import run_cli

    seed_credentials(pulse_home, fake_server)
    first = run_cli(pulse_home, "status")
    assert first.code == 0, first.stderr
    return pulse_home
