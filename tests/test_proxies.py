"""Issue 17 items 3 and 4: the OS trust store and proxies, with a real CONNECT proxy on loopback.

The app keeps Anthropic's real URLs (api.anthropic.com, platform.claude.com); `HTTPS_PROXY`
points at `support.connect_proxy.ConnectProxy`, which relays those hosts to the fake server and
inspects their TLS with the test's own root, trusted only through SSL_CERT_FILE. Every child runs
under a guard that lets sockets reach loopback only, so a client that ignored the proxy would fail
here instead of contacting a real host.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.services.http import UrllibTransport, is_loopback, tls_context
from support.connect_proxy import ROOT_CA, ConnectProxy, guarded_cli
from support.fixtures_server import seed_credentials

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment without the developer's own proxy or certificate settings."""
    for name in (*_PROXY_VARS, *(n.upper() for n in _PROXY_VARS), "SSL_CERT_FILE",
                 "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return dict(os.environ)


@pytest.fixture
def proxy(fake_server: FakeAnthropic) -> Iterator[ConnectProxy]:
    upstream = ("127.0.0.1", fake_server.port)
    routes = {"api.anthropic.com:443": upstream, "platform.claude.com:443": upstream}
    with ConnectProxy(routes) as running:
        yield running


def anthropic_home(home: Path, fake: FakeAnthropic) -> None:
    """A logged-in home whose config keeps Anthropic's real endpoint URLs."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config.json").write_text(json.dumps({"callback_port": 0}), encoding="utf-8")
    seed_credentials(home, fake)


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(guarded_cli(*args), capture_output=True, text=True, timeout=60,
                          env=env, check=False)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_anthropic_traffic_goes_through_the_proxy_and_its_root_is_trusted(
        fake_server: FakeAnthropic, proxy: ConnectProxy, pulse_home: Path,
        clean_env: dict[str, str]) -> None:
    anthropic_home(pulse_home, fake_server)
    env = {**clean_env, "HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": str(ROOT_CA)}
    proc = run("status", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["session"]["utilization"] is not None
    assert proxy.connects == ["api.anthropic.com:443"]
    usage = fake_server.requests_to("usage")
    assert len(usage) == 1 and usage[0].headers["host"] == "api.anthropic.com"


def test_a_refresh_goes_through_the_proxy_too(
        fake_server: FakeAnthropic, proxy: ConnectProxy, pulse_home: Path,
        clean_env: dict[str, str]) -> None:
    anthropic_home(pulse_home, fake_server)
    fake_server.expire_access_tokens()  # the usage call gets 401: refresh, then retry
    env = {**clean_env, "https_proxy": proxy.url, "SSL_CERT_FILE": str(ROOT_CA)}
    proc = run("status", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proxy.connects.count("platform.claude.com:443") == 1
    assert fake_server.refresh_count == 1


def test_without_the_inspection_root_the_certificate_is_refused_naming_the_proxy(
        fake_server: FakeAnthropic, proxy: ConnectProxy, pulse_home: Path,
        clean_env: dict[str, str]) -> None:
    anthropic_home(pulse_home, fake_server)
    line = one_line(run("status", env={**clean_env, "HTTPS_PROXY": proxy.url}))
    assert "secure connection to api.anthropic.com failed" in line
    assert "CERTIFICATE_VERIFY_FAILED" in line
    assert f"through the proxy 127.0.0.1:{proxy.port} set in HTTPS_PROXY" in line
    assert fake_server.requests_to("usage") == []


def test_a_dead_proxy_is_named(fake_server: FakeAnthropic, pulse_home: Path,
                               clean_env: dict[str, str]) -> None:
    anthropic_home(pulse_home, fake_server)
    port = closed_port()
    env = {**clean_env, "HTTPS_PROXY": f"http://127.0.0.1:{port}", "SSL_CERT_FILE": str(ROOT_CA)}
    line = one_line(run("status", env=env))
    assert line == (f"claude-pulse: cannot reach the proxy 127.0.0.1:{port} set in HTTPS_PROXY "
                    "(it refused the connection)")


def test_a_proxy_refusing_the_tunnel_is_named(
        fake_server: FakeAnthropic, pulse_home: Path, clean_env: dict[str, str]) -> None:
    anthropic_home(pulse_home, fake_server)
    with ConnectProxy({}) as refusing:  # knows no route: 403 to every CONNECT
        env = {**clean_env, "HTTPS_PROXY": refusing.url, "SSL_CERT_FILE": str(ROOT_CA)}
        line = one_line(run("status", env=env))
    assert line == (f"claude-pulse: the proxy 127.0.0.1:{refusing.port} set in HTTPS_PROXY "
                    "would not connect to api.anthropic.com (403 Forbidden)")


def test_loopback_never_goes_through_a_proxy(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path,
        clean_env: dict[str, str]) -> None:
    """The fake server (and so the demo) is on 127.0.0.1: with every proxy variable set to a
    live proxy, not one request reaches it."""
    seed_credentials(pulse_home, fake_server)
    with ConnectProxy({}) as bystander:
        env = {**clean_env, "HTTP_PROXY": bystander.url, "HTTPS_PROXY": bystander.url,
               "http_proxy": bystander.url, "ALL_PROXY": bystander.url}
        proc = run("status", env=env)
        assert proc.returncode == 0, proc.stderr
        assert bystander.connects == [] and bystander.plain_requests == []
    assert len(fake_server.requests_to("usage")) == 1


def test_the_demo_works_with_http_proxy_set(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`--demo`'s own loop (its fake server, login and polls on 127.0.0.1), headless."""
    with ConnectProxy({}) as bystander:
        env = {**clean_env, "HTTP_PROXY": bystander.url, "HTTPS_PROXY": bystander.url,
               "CLAUDE_PULSE_HOME": str(tmp_path / "home")}
        script = (
            "import tempfile, pathlib\n"
            "from claude_pulse.wiring import demo_services\n"
            "with tempfile.TemporaryDirectory() as d, demo_services(pathlib.Path(d), speed=60) "
            "as s:\n"
            "    s.login_session().run()\n"
            "    snap = s.fetcher.fetch()\n"
            "    print('demo', snap.usage.session.utilization if snap else None)\n"
        )
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=60, env=env, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("demo ") and "None" not in proc.stdout
        assert bystander.connects == [] and bystander.plain_requests == []


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST", True), ("app.localhost", True),
    ("api.anthropic.com", False), ("10.0.0.5", False), ("localhost.example.com", False),
    ("", False), (None, False),
])
def test_what_counts_as_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_certificates_are_checked_by_the_os_trust_store(clean_env: dict[str, str]) -> None:
    import truststore

    assert isinstance(tls_context(), truststore.SSLContext)


def test_an_unusable_ssl_cert_file_is_one_clear_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clean_env: dict[str, str]) -> None:
    from claude_pulse.errors import NetworkError

    missing = tmp_path / "no-such.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    with pytest.raises(NetworkError) as info:
        # Never sent: the TLS context is made, and refused, before any connection.
        UrllibTransport().request("GET", "https://127.0.0.1:9/", headers={}, timeout=2)
    assert str(info.value).startswith(f"the certificates in SSL_CERT_FILE ({missing}) cannot")


def test_a_proxy_from_the_windows_settings_is_used_and_named(
        monkeypatch: pytest.MonkeyPatch, clean_env: dict[str, str]) -> None:
    """Windows forced on Linux: no variable set, the proxy comes from the registry (urllib's
    `getproxies()` reads Internet Options there); a dead one is named as such."""
    port = closed_port()
    connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: Any) -> None:
        assert is_loopback(address[0]), f"tried to connect to {address[0]}"
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr("urllib.request.getproxies",
                        lambda: {"https": f"http://127.0.0.1:{port}"})
    from claude_pulse.errors import NetworkError

    with pytest.raises(NetworkError) as info:
        UrllibTransport().request("GET", "https://api.anthropic.com/api/oauth/usage",
                                  headers={}, timeout=2)
    assert str(info.value) == (f"cannot reach the proxy 127.0.0.1:{port} set in the Windows "
                               "proxy settings (it refused the connection)")
