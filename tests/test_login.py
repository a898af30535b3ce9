"""Whole logins against the fake server with a scripted HTTP browser (fast, no Chromium), and
the `login`/`logout` commands as subprocesses."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.config import Config
from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import LoginError, LoginTimeout
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.oauth.loopback import SUCCESS_TITLE
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.login import MANUAL_PROMPT, MANUAL_TRIES, LoginSession
from claude_pulse.services.usage_client import Profile
from support.fixtures_browser import BrowserEnv, fetch_like_a_browser


class Browser:
    """Records what the scripted browser saw; `tamper` rewrites the callback URL first."""

    def __init__(self, tamper: Callable[[str], str] | None = None, repeat: int = 1) -> None:
        self.pages: list[tuple[int, str]] = []
        self.done = threading.Event()
        self._tamper = tamper
        self._repeat = repeat

    def __call__(self, url: str) -> bool:
        try:
            if self._tamper is None:
                for _ in range(self._repeat):
                    self.pages.append(fetch_like_a_browser(url))
            else:
                resp = UrllibTransport().request("GET", url, headers={}, timeout=10)
                callback = self._tamper(resp.header("location") or "")
                self.pages.append(fetch_like_a_browser(callback))
        finally:
            self.done.set()
        return True


@pytest.fixture
def store(pulse_home: Path) -> CredentialStore:
    return CredentialStore(pulse_home / "credentials.json")


@pytest.fixture
def config(fake_server: FakeAnthropic) -> Config:
    return Config(**fake_server.config_overrides(), callback_port=0)


def run_login(config: Config, store: CredentialStore, browser: Callable[[str], bool],
              timeout: float = 10, **kw: object) -> object:
    return LoginSession(lambda: config, store, UrllibTransport(),  # type: ignore[arg-type]
                        open_browser=browser, timeout=timeout, **kw).run()


def test_loopback_login_saves_tokens_and_shows_success(
        config: Config, store: CredentialStore, fake_server: FakeAnthropic) -> None:
    urls: list[str] = []
    browser = Browser()
    tokens = run_login(config, store, browser, on_url=urls.append)
    assert browser.done.wait(10)
    assert store.load() == tokens
    assert getattr(tokens, "email", None) == "pulse.user@example.com"
    (status, page), = browser.pages
    assert status == 200 and SUCCESS_TITLE in page and "pulse.user@example.com" in page
    assert len(urls) == 1 and urls[0].startswith(fake_server.authorize_url + "?code=true&")
    redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(urls[0]).query)["redirect_uri"][0]
    assert redirect.startswith("http://localhost:") and redirect.endswith("/callback")
    assert fake_server.exchange_count == 1


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_credentials_are_0600(config: Config, store: CredentialStore) -> None:
    run_login(config, store, Browser())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_denied_consent(config: Config, store: CredentialStore,
                        fake_server: FakeAnthropic) -> None:
    fake_server.deny_consent = True
    browser = Browser()
    with pytest.raises(LoginError, match="access_denied"):
        run_login(config, store, browser)
    assert browser.done.wait(10)
    assert browser.pages[0][0] == 400 and "Login failed" in browser.pages[0][1]
    assert fake_server.exchange_count == 0 and store.load() is None


def _with_state(value: str) -> Callable[[str], str]:
    def tamper(location: str) -> str:
        parts = urllib.parse.urlsplit(location)
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["state"] = value
        return parts._replace(query=urllib.parse.urlencode(query)).geturl()
    return tamper


def test_wrong_state_gets_error_page_and_no_exchange(
        config: Config, store: CredentialStore, fake_server: FakeAnthropic) -> None:
    browser = Browser(tamper=_with_state("forged"))
    with pytest.raises(LoginTimeout, match="refused"):
        run_login(config, store, browser, timeout=1.5)
    assert browser.pages[0][0] == 400 and "State mismatch" in browser.pages[0][1]
    assert not fake_server.requests_to("token") and store.load() is None


def test_repeated_callback_does_not_exchange_twice(
        config: Config, store: CredentialStore, fake_server: FakeAnthropic) -> None:
    location: list[str] = []

    def browser(url: str) -> bool:
        resp = UrllibTransport().request("GET", url, headers={}, timeout=10)
        location.append(resp.header("location") or "")
        fetch_like_a_browser(location[0])
        return True

    run_login(config, store, browser)
    # The same callback again (a reload): the listener is gone, nothing is exchanged.
    with pytest.raises(OSError):
        fetch_like_a_browser(location[0], timeout=2)
    assert fake_server.exchange_count == 1 and len(fake_server.requests_to("token")) == 1


def test_timeout_when_the_browser_never_comes_back(config: Config,
                                                   store: CredentialStore) -> None:
    started = time.monotonic()
    with pytest.raises(LoginTimeout, match=r"within 1 s"):
        run_login(config, store, lambda url: False, timeout=1)
    assert time.monotonic() - started < 5


def test_busy_port_logs_in_on_a_free_one(fake_server: FakeAnthropic,
                                         store: CredentialStore) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        config = Config(**fake_server.config_overrides(), callback_port=port)
        urls: list[str] = []
        browser = Browser()
        tokens = run_login(config, store, browser, on_url=urls.append)
    assert store.load() == tokens
    redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(urls[0]).query)["redirect_uri"][0]
    chosen = urllib.parse.urlsplit(redirect).port
    assert chosen is not None and chosen != port  # the redirect URI names the port in use
    (status, page), = browser.pages
    assert status == 200 and SUCCESS_TITLE in page


def test_a_crashing_browser_opener_still_lets_the_user_open_the_url(
        config: Config, store: CredentialStore) -> None:
    urls: list[str] = []

    def broken(url: str) -> bool:
        raise OSError("no browser here")

    def user_opens_it_by_hand(url: str) -> None:
        urls.append(url)
        threading.Timer(0.2, fetch_like_a_browser, args=(url,)).start()

    tokens = run_login(config, store, broken, on_url=user_opens_it_by_hand)
    assert store.load() == tokens and len(urls) == 1


def test_cancel_from_another_thread(config: Config, store: CredentialStore) -> None:
    session = LoginSession(lambda: config, store, UrllibTransport(),
                           open_browser=lambda url: False, timeout=60)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            session.run()
        except LoginError as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    deadline = time.monotonic() + 5
    while session.authorize_url is None and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    session.cancel()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 2
    assert "cancelled" in str(errors[0])


def test_cancel_before_run(config: Config, store: CredentialStore) -> None:
    session = LoginSession(lambda: config, store, UrllibTransport(),
                           open_browser=lambda url: False)
    session.cancel()
    with pytest.raises(LoginError, match="cancelled"):
        session.run()


def _read_manual_page(url: str) -> str:
    status, page = fetch_like_a_browser(url)
    assert status == 200
    return page.split('<code id="auth-code">')[1].split("</code>")[0].replace("&#x27;", "'")


@pytest.mark.parametrize(("edit", "error"), [
    pytest.param(lambda pasted: pasted, None, id="as-shown"),
    pytest.param(lambda pasted: f"  {pasted}  \n", None, id="with-whitespace"),
    pytest.param(lambda pasted: pasted.split("#")[0] + "#forged", "state mismatch",
                 id="wrong-state"),
    pytest.param(lambda pasted: pasted.split("#")[0], "full code", id="state-missing"),
])
def test_manual_paste(config: Config, store: CredentialStore, fake_server: FakeAnthropic,
                      edit: Callable[[str], str], error: str | None) -> None:
    prompts: list[str] = []
    urls: list[str] = []

    def read_code(prompt: str) -> str:
        prompts.append(prompt)
        return edit(_read_manual_page(urls[0]))

    kwargs = {"manual": True, "read_code": read_code, "on_url": urls.append}
    if error is None:
        tokens = run_login(config, store, lambda url: False, **kwargs)
        assert store.load() == tokens and prompts == [MANUAL_PROMPT]
        redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(urls[0]).query)["redirect_uri"]
        assert redirect == ["https://platform.claude.com/oauth/code/callback"]
    else:
        with pytest.raises(LoginError, match=error):
            run_login(config, store, lambda url: False, **kwargs)
        assert fake_server.exchange_count == 0 and store.load() is None
        assert len(prompts) == MANUAL_TRIES  # asked again each time, then gave up
        assert prompts[1].endswith("Paste it again (2 tries left): ")
        assert prompts[2].endswith("Paste it again (1 try left): ")


def test_a_wrong_paste_asks_again_and_the_right_one_logs_in(
        config: Config, store: CredentialStore, fake_server: FakeAnthropic) -> None:
    """A typo in the code part is only seen by the server (invalid_grant); half a copy and a
    wrong state are seen here. Each asks again, in the same login attempt."""
    prompts: list[str] = []
    urls: list[str] = []
    shown: list[str] = []

    def read_code(prompt: str) -> str:
        prompts.append(prompt)
        if not shown:
            shown.append(_read_manual_page(urls[0]))
        code, _, state = shown[0].partition("#")
        return [f"{code}#", f"x{code}#{state}", shown[0]][len(prompts) - 1]

    tokens = run_login(config, store, lambda url: False, manual=True, read_code=read_code,
                       on_url=urls.append)
    assert store.load() == tokens
    assert prompts == [
        MANUAL_PROMPT,
        "That is not the full code: copy all of it, including the part after '#'. "
        "Paste it again (2 tries left): ",
        "That code was refused: it may be mistyped, or too old. Paste it again (1 try left): ",
    ]
    assert len(urls) == 1  # one browser login for all three pastes
    assert len(fake_server.requests_to("token")) == 2  # the typo'd code, then the right one


def test_a_cancel_while_asking_is_not_asked_again(config: Config, store: CredentialStore) -> None:
    prompts: list[str] = []
    session = LoginSession(lambda: config, store, UrllibTransport(),
                           open_browser=lambda url: False, manual=True,
                           read_code=lambda p: prompts.append(p) or session.cancel() or "bad")
    with pytest.raises(LoginError, match="cancelled"):
        session.run()
    assert len(prompts) == 1


def test_manual_paste_of_nothing(config: Config, store: CredentialStore) -> None:
    def eof(prompt: str) -> str:
        raise EOFError

    with pytest.raises(LoginError, match="No code"):
        run_login(config, store, lambda url: False, manual=True, read_code=eof)


# -- login CSRF (issue 16 item 9): another account's login never replaces ours unasked --------

def _saved_as(store: CredentialStore, email: str) -> TokenSet:
    store.save(TokenSet("sk-ant-oat01-mine", "sk-ant-ort01-mine", datetime.now(timezone.utc)
                        + timedelta(hours=8), email=email))
    saved = store.load()
    assert saved is not None
    return saved


@pytest.mark.parametrize("answer", [True, False], ids=["confirmed", "declined"])
def test_a_login_for_another_account_asks_before_replacing_the_saved_one(
        config: Config, store: CredentialStore, fake_server: FakeAnthropic,
        answer: bool) -> None:
    saved = _saved_as(store, "ada@example.com")
    fake_server.tokens.email = "mallory@example.com"  # the code that reached us is theirs
    asked: list[tuple[str, str]] = []

    def confirm(old: str, new: str) -> bool:
        asked.append((old, new))
        return answer

    if answer:
        tokens = run_login(config, store, Browser(), confirm_switch=confirm)
        assert store.load() == tokens
    else:
        with pytest.raises(LoginError, match=r"Kept the login of ada@example\.com"):
            run_login(config, store, Browser(), confirm_switch=confirm)
        assert store.load() == saved  # untouched
    assert asked == [("ada@example.com", "mallory@example.com")]


def test_the_same_account_again_is_not_asked(config: Config, store: CredentialStore,
                                             fake_server: FakeAnthropic) -> None:
    _saved_as(store, "Pulse.User@example.com")  # emails compare without case

    def confirm(old: str, new: str) -> bool:
        raise AssertionError("asked for the same account")

    tokens = run_login(config, store, Browser(), confirm_switch=confirm)
    assert store.load() == tokens


def test_login_command_without_a_terminal_refuses_to_switch_accounts(
        fake_config: Path, pulse_home: Path, fake_server: FakeAnthropic) -> None:
    store = CredentialStore(pulse_home / "credentials.json")
    saved = _saved_as(store, "ada@example.com")
    proc = cli("login", "--no-browser", "--timeout", "30")
    url = _url_from(proc.stdout)
    _, page = fetch_like_a_browser(url)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    lines = [ln for ln in err.splitlines() if ln.startswith("claude-pulse:")]
    assert len(lines) == 1 and "Already logged in as ada@example.com" in lines[0], err
    assert "pulse.user@example.com" in lines[0] and "Traceback" not in err
    assert store.load() == saved
    assert SUCCESS_TITLE not in page  # the browser is told it did not work


def test_login_command_in_a_terminal_asks_y_n(fake_config: Path, pulse_home: Path,
                                              fake_server: FakeAnthropic) -> None:
    import pty

    store = CredentialStore(pulse_home / "credentials.json")
    _saved_as(store, "ada@example.com")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "claude_pulse", "login", "--no-browser",
                                 "--timeout", "30"], stdin=follower, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        os.close(follower)
        url = _url_from(proc.stdout)
        fetched: list[tuple[int, str]] = []
        browser = threading.Thread(target=lambda: fetched.append(fetch_like_a_browser(url)))
        browser.start()  # the page waits for the answer below
        # The answer is read from the terminal; the question goes to stdout (a pipe here).
        watchdog = threading.Timer(30, proc.kill)  # never hang the suite on a missing prompt
        watchdog.start()
        seen = ""
        assert proc.stdout is not None
        while "[y/N]" not in seen and proc.poll() is None:
            seen += proc.stdout.read(1)
        watchdog.cancel()
        assert "You are logged in as ada@example.com. Switch to pulse.user@example.com?" in seen
        os.write(leader, b"y\n")
        out, err = proc.communicate(timeout=30)
        browser.join(10)
    finally:
        os.close(leader)
    assert proc.returncode == 0, err
    assert "Logged in as pulse.user@example.com." in out
    loaded = store.load()
    assert loaded is not None and loaded.email == "pulse.user@example.com"
    assert fetched and SUCCESS_TITLE in fetched[0][1]


# -- the commands, as a user runs them -------------------------------------------------------------

def cli(*args: str, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "claude_pulse", *args], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]


def _url_from(stream: Iterator[str] | object) -> str:
    assert hasattr(stream, "readline")
    for _ in range(20):
        line = stream.readline()
        if line.strip().startswith("http"):
            return str(line.strip())
    raise AssertionError("no URL printed")


def test_login_command_no_browser_then_logout(fake_config: Path, pulse_home: Path,
                                              fake_server: FakeAnthropic) -> None:
    gate = pulse_home / "gate.json"
    until = time.time() + 3600
    gate.write_text(json.dumps({"requests": [], "cooldown_until": until}))
    proc = cli("login", "--no-browser", "--timeout", "30")
    url = _url_from(proc.stdout)
    status, page = fetch_like_a_browser(url)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert status == 200 and SUCCESS_TITLE in page
    assert out.strip().endswith("Logged in as pulse.user@example.com.")
    # A new login does not end a 429 cooldown: the long block can hold the whole account.
    assert json.loads(gate.read_text())["cooldown_until"] == until
    assert CredentialStore(pulse_home / "credentials.json").load() is not None

    done = subprocess.run([sys.executable, "-m", "claude_pulse", "logout"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.count("\n") == 1
    assert "Logged out" in done.stdout and not (pulse_home / "credentials.json").exists()
    again = subprocess.run([sys.executable, "-m", "claude_pulse", "logout"],
                           capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and "Already logged out" in again.stdout


def test_login_command_opens_browser_from_BROWSER(fake_config: Path, pulse_home: Path,
                                                  http_browser_env: BrowserEnv) -> None:
    done = subprocess.run([sys.executable, "-m", "claude_pulse", "login", "--timeout", "30"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Logged in as pulse.user@example.com." in done.stdout
    assert "http://127.0.0.1" in done.stdout  # the URL is printed too
    assert SUCCESS_TITLE in http_browser_env.page()


def test_login_command_manual(fake_config: Path, pulse_home: Path) -> None:
    proc = cli("login", "--manual", "--no-browser")
    url = _url_from(proc.stdout)
    out, err = proc.communicate(_read_manual_page(url) + "\n", timeout=30)
    assert proc.returncode == 0, err
    assert "Logged in as pulse.user@example.com." in out


def test_login_command_manual_asks_again_after_a_bad_paste(fake_config: Path,
                                                           pulse_home: Path) -> None:
    proc = cli("login", "--manual", "--no-browser")
    url = _url_from(proc.stdout)
    out, err = proc.communicate("half-a-code\n" + _read_manual_page(url) + "\n", timeout=30)
    assert proc.returncode == 0, err
    assert "Paste it again (2 tries left)" in out
    assert "Logged in as pulse.user@example.com." in out and "Traceback" not in err


@pytest.mark.parametrize(("args", "stdin", "fragment"), [
    pytest.param(["login", "--manual", "--no-browser"], "garbage\n" * 3, "full code",
                 id="bad-paste"),
    pytest.param(["login", "--manual", "--no-browser"], "", "No code", id="eof"),
    pytest.param(["login", "--no-browser", "--timeout", "1"], "", "No answer", id="timeout"),
])
def test_login_command_failures_are_one_line(fake_config: Path, args: list[str], stdin: str,
                                             fragment: str) -> None:
    done = subprocess.run([sys.executable, "-m", "claude_pulse", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert len([ln for ln in done.stderr.splitlines() if ln.startswith("claude-pulse:")]) == 1


def test_the_profile_fallback_keeps_the_logins_end(config: Config, store: CredentialStore,
                                                   fake_server: FakeAnthropic) -> None:
    # A token answer without the account's email: the email comes from the profile endpoint,
    # and nothing else of the answer (here: refresh_token_expires_in) may be lost on the way.
    minted = fake_server.issue_tokens()
    del minted["account"]
    fake_server.queue("token", Reply(200, json=minted))
    tokens = run_login(config, store, Browser(),
                       profile=lambda t: Profile("from.profile@example.com", None))
    saved = store.load()
    assert saved == tokens and saved is not None
    assert saved.email == "from.profile@example.com"
    assert saved.refresh_expires_at is not None
