"""Login driven by a real headless Chromium following the redirect to the loopback listener."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from claude_pulse.config import Config
from claude_pulse.errors import LoginError
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.oauth.loopback import SUCCESS_TITLE
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.login import LoginSession
from support.fixtures_browser import BrowserEnv, Chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

USAGE = {"five_hour": {"utilization": 23.5, "resets_at": "2026-11-28T15:17:29+00:00"},
         "seven_day": {"utilization": 61.0, "resets_at": "2026-12-01T03:59:59+00:00"}}


def claude_pulse(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("claude-pulse")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "claude_pulse",
                                                          *args]


@pytest.mark.parametrize(("deny", "expected"), [
    pytest.param(False, SUCCESS_TITLE, id="consent"),
    pytest.param(True, "Login failed", id="denied"),
])
def test_chromium_follows_the_redirect(chromium: Chromium, fake_server: FakeAnthropic,
                                       pulse_home: Path, deny: bool, expected: str) -> None:
    fake_server.deny_consent = deny
    pages: list[str] = []
    loaded = threading.Event()
    store = CredentialStore(pulse_home / "credentials.json")
    config = Config(**fake_server.config_overrides(), callback_port=0)

    def open_browser(url: str) -> bool:
        pages.append(chromium.open(url))
        loaded.set()
        return True

    def run() -> None:
        LoginSession(lambda: config, store, UrllibTransport(), open_browser=open_browser,
                     timeout=60).run()

    if deny:
        with pytest.raises(LoginError, match="access_denied"):
            run()
    else:
        run()
    # The opener thread finishes once Chromium has the final page.
    assert loaded.wait(60)
    assert expected in pages[0]
    assert (store.load() is None) == deny


def test_claude_pulse_login_end_to_end(browser_env: BrowserEnv, fake_config: Path,
                                       fake_server: FakeAnthropic, pulse_home: Path) -> None:
    fake_server.usage = USAGE
    done = subprocess.run(claude_pulse("login", "--timeout", "90"), capture_output=True,
                          text=True, timeout=150)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("Logged in as pulse.user@example.com.")
    page = browser_env.page()
    assert SUCCESS_TITLE in page and "pulse.user@example.com" in page
    credentials = pulse_home / "credentials.json"
    if os.name == "posix":
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    saved = json.loads(credentials.read_text())
    assert saved["email"] == "pulse.user@example.com" and saved["refresh_token"]
    assert fake_server.exchange_count == 1

    # "Done when" (issue 3): status --json prints exactly what the server served.
    status = subprocess.run(claude_pulse("status", "--json"), capture_output=True, text=True,
                            timeout=60)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["session"]["utilization"] == 23.5
    assert report["weekly"]["utilization"] == 61.0
