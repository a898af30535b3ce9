"""No token, code or verifier in any log file or CLI output, across a whole life cycle run with
`--verbose` (DEBUG): manual and loopback login, fetch, refresh on 401, a failed proactive refresh,
the 429 paths, logout."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.services.http import UrllibTransport
from support.fixtures_browser import fetch_like_a_browser

pytestmark = pytest.mark.slow


class Run:
    """Runs `claude-pulse --verbose …` and keeps every byte it printed."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.outputs: list[str] = []
        self.secrets: set[str] = set()

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "claude_pulse", "--verbose", *args],
                              input=stdin, capture_output=True, text=True, timeout=60)
        self.outputs += [done.stdout, done.stderr]
        self.note_credentials()
        return done

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "claude_pulse", "--verbose", *args],
                                text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def finish(self, proc: subprocess.Popen[str], stdin: str | None = None,
               head: str = "") -> int:
        out, err = proc.communicate(stdin, timeout=60)
        self.outputs += [head + out, err]
        self.note_credentials()
        return proc.returncode

    def note_credentials(self) -> None:
        path = self.home / "credentials.json"
        if path.exists():
            data = json.loads(path.read_text())
            self.secrets.update([data["access_token"], data["refresh_token"]])

    def set_expiry(self, seconds_from_now: float) -> None:
        path = self.home / "credentials.json"
        data = json.loads(path.read_text())
        data["expires_at"] = int(time.time() + seconds_from_now)
        path.write_text(json.dumps(data))


def read_url(proc: subprocess.Popen[str]) -> tuple[str, str]:
    assert proc.stdout is not None
    head = ""
    for _ in range(20):
        line = proc.stdout.readline()
        head += line
        if line.strip().startswith("http"):
            return line.strip(), head
    raise AssertionError("no URL printed:\n" + head)


def server_side_secrets(fake: FakeAnthropic) -> set[str]:
    found: set[str] = set()
    for req in fake.requests:
        body: Any = req.json if isinstance(req.json, dict) else {}
        for key in ("code", "code_verifier", "refresh_token"):
            if isinstance(body.get(key), str):
                found.add(body[key])
        _, _, bearer = req.headers.get("authorization", "").partition(" ")
        if bearer:
            found.add(bearer)
    return found


def test_full_cycle_leaks_nothing(fake_config: Path, fake_server: FakeAnthropic,
                                  pulse_home: Path) -> None:
    run = Run(pulse_home)

    # 1. Manual login: the pasted code goes in on stdin and must never come back out.
    proc = run.start("login", "--manual", "--no-browser")
    url, head = read_url(proc)
    page = fetch_like_a_browser(url)[1]
    pasted = page.split('<code id="auth-code">')[1].split("</code>")[0]
    run.secrets.add(pasted.split("#")[0])
    assert run.finish(proc, pasted + "\n", head) == 0

    # 2. Loopback login, the browser being scripted so we can see the code in the redirect.
    proc = run.start("login", "--no-browser", "--timeout", "30")
    url, head = read_url(proc)
    redirect = UrllibTransport().request("GET", url, headers={}, timeout=10).header("location")
    assert redirect
    run.secrets.add(urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query)["code"][0])
    fetch_like_a_browser(redirect)
    assert run.finish(proc, head=head) == 0

    # 3. A plain fetch, then a 401 (expired on the server) -> refresh -> retry.
    assert run.cli("status", "--json").returncode == 0
    fake_server.expire_access_tokens()
    assert run.cli("status", "--json").returncode == 0

    # 4. Expired: refreshed before the request. (A 429 with a token still valid no longer
    #    refreshes: issue 18.)
    run.set_expiry(-60)
    assert run.cli("status").returncode == 0

    # 5. A real 429 with a fresh token: cooldown, last good numbers, and a stale note.
    fake_server.queue("usage", Reply.rate_limited(0))
    run.cli("status", "--json")

    # 6. Refresh token revoked: "log in again".
    run.set_expiry(-60)
    fake_server.revoke_refresh_tokens()
    (pulse_home / "gate.json").unlink()
    failed = run.cli("status")
    assert failed.returncode == 1 and "login" in failed.stderr

    assert run.cli("logout").returncode == 0

    run.secrets |= server_side_secrets(fake_server)
    assert fake_server.refresh_count >= 2 and fake_server.exchange_count == 2
    secrets = {s for s in run.secrets if len(s) >= 16}
    assert len(secrets) >= 8

    logs = sorted((pulse_home / "logs").rglob("*"))
    texts = {f"log {p.name}": p.read_text(errors="replace") for p in logs if p.is_file()}
    texts.update({f"output {i}": text for i, text in enumerate(run.outputs)})
    assert any("token endpoint: refresh_token grant" in t for t in texts.values()), \
        "DEBUG logging was not on, so this test proves nothing"
    for where, text in texts.items():
        leaked = [s[:6] + "…" for s in secrets if s in text]
        assert not leaked, f"{where} contains secret values starting {leaked}"
