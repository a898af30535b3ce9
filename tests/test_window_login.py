"""Logging in from the window, with fallbacks (issue 15 item 5, issue 16 item 9 window part).

Against the fake server over real HTTP: a browser that could not be started is reported at
once; the authorize link can be opened elsewhere and the address the browser ends on (or its
code#state) pasted into the window; a typo asks again instead of failing. On Xvfb: the panel
shows the link with Copy, Paste code and Cancel while the login waits, and after the login the
window says which account was logged in.
"""

from __future__ import annotations

import threading
import time
import tkinter as tk
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.config import Config
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.errors import LoginError
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.login import LoginSession
from claude_pulse.ui.deep_dive import DeepDiveWindow
from support.fixtures_display import pump_until
from test_window_fit import NOW, settle


@pytest.fixture
def config(fake_server: FakeAnthropic) -> Config:
    return Config(**fake_server.config_overrides(), callback_port=0)


def remote_browser_address(url: str) -> str:
    """What a browser on another computer ends on: the callback address it cannot load."""
    resp = UrllibTransport().request("GET", url, headers={}, timeout=10)
    location = resp.header("location")
    assert location and "code=" in location
    return location


def test_a_browser_that_cannot_start_is_said_at_once_and_the_pasted_address_logs_in(
        config: Config, pulse_home: Path, fake_server: FakeAnthropic) -> None:
    store = CredentialStore(pulse_home / "credentials.json")
    session = LoginSession(lambda: config, store, UrllibTransport(),
                           open_browser=lambda _url: False, timeout=20)
    urls: list[str] = []
    browser: list[tuple[bool, float]] = []
    session.watch(on_url=urls.append, on_browser=lambda ok: browser.append((ok, time.monotonic())))
    result: dict[str, Any] = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.update(tokens=session.run()), daemon=True)
    worker.start()
    deadline = time.monotonic() + 5
    while not browser and time.monotonic() < deadline:
        time.sleep(0.01)
    assert browser and browser[0][0] is False and browser[0][1] - started < 2  # not 300 s
    assert urls and urls[0].startswith(fake_server.authorize_url)
    address = remote_browser_address(urls[0])

    # Typos ask again; nothing is exchanged and the login keeps waiting.
    assert "whole code" in (session.submit_code("garbage") or "")
    assert "another login" in (session.submit_code("abc#not-this-logins-state") or "")
    assert fake_server.exchange_count == 0 and worker.is_alive()
    assert session.submit_code(address) is None
    worker.join(10)
    assert result["tokens"].access_token and store.load() is not None
    assert fake_server.exchange_count == 1


def test_cancel_ends_the_wait_at_once(config: Config, pulse_home: Path) -> None:
    store = CredentialStore(pulse_home / "credentials.json")
    session = LoginSession(lambda: config, store, UrllibTransport(),
                           open_browser=lambda _url: True, timeout=60)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            session.run()
        except LoginError as exc:
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    session.cancel()
    worker.join(5)
    assert errors and "cancelled" in str(errors[0]) and time.monotonic() - started < 2
    assert session.submit_code("x#y") is not None  # nothing waits for a code any more


# ---- the window -----------------------------------------------------------------------------


@pytest.mark.gui
def test_the_window_offers_the_link_copy_paste_and_cancel_while_waiting(root: tk.Tk) -> None:
    cancelled: list[bool] = []
    codes: list[str] = []

    def code(text: str) -> str | None:
        codes.append(text)
        return None if text == "good#state" else "That is not the whole code."

    win = DeepDiveWindow(root, clock=lambda: NOW, on_refresh=lambda: None,
                         on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                         on_login_cancel=lambda: cancelled.append(True), on_login_code=code,
                         settings=Config, platform="linux")
    try:
        win.set_status(AppStatus(Phase.LOGGING_IN))
        win.show()
        url = "https://claude.example/oauth/authorize?code=true&state=abc"
        win.show_login(url, None)
        win.show_login(None, False)  # the browser could not be started
        settle(root)
        panel = win.login_panel
        assert panel is not None and panel.frame.winfo_ismapped()
        assert "could not be started" in panel.message.cget("text")
        assert panel.link.get() == url
        panel.copy.invoke()
        assert root.clipboard_get() == url and panel.copy.cget("text") == "Copied"
        panel.paste.invoke()
        settle(root, 0.1)
        assert panel.field.winfo_ismapped()
        panel.field.insert(0, "garbage")
        panel.submit()
        settle(root, 0.1)
        assert panel.problem.winfo_ismapped() and "whole code" in panel.problem.cget("text")
        panel.field.delete(0, "end")
        panel.field.insert(0, "good#state")
        panel.submit()  # (Enter in the field does the same)
        settle(root, 0.1)
        assert codes[-2:] == ["garbage", "good#state"] and not panel.problem.winfo_ismapped()
        panel.cancel.invoke()
        assert cancelled == [True]
        # The footer is still on screen with the panel added.
        assert win._refresh_button.winfo_rooty() + win._refresh_button.winfo_height() <= \
            root.winfo_screenheight()

        # The login finished: the panel goes and the window says whose login it is.
        win.set_status(AppStatus(Phase.LOADING, account="ada@example.com"))
        settle(root, 0.1)
        assert win.login_panel is None
        assert "Logged in as ada@example.com." in win._note_label.cget("text")
        win.hide()
        win.show()
        settle(root, 0.1)
        assert not win._note_label.winfo_ismapped()  # said once, not for ever
    finally:
        win.destroy()


@pytest.mark.gui
def test_a_failed_login_drops_the_panel_and_does_not_claim_an_account(root: tk.Tk) -> None:
    win = DeepDiveWindow(root, clock=lambda: NOW, on_refresh=lambda: None,
                         on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                         on_login_cancel=lambda: None, on_login_code=lambda _t: None,
                         settings=Config, platform="linux")
    try:
        win.set_status(AppStatus(Phase.LOGGING_IN))
        win.show()
        win.show_login("https://x.example/a", True)
        pump_until(root, lambda: win.login_panel is not None)
        assert "browser window that opened" in win.login_panel.message.cget("text")
        win.set_status(AppStatus(Phase.LOGIN_FAILED, message="Login was cancelled."))
        settle(root, 0.1)
        assert win.login_panel is None
        assert not win._note_label.winfo_ismapped()
        win.show_login("https://x.example/a", True)  # a late callback: ignored
        assert win.login_panel is None
    finally:
        win.destroy()


# ---- a login of another account asks before it replaces the saved one (#16 item 9) ---------


def saved_login(store: CredentialStore, email: str) -> bytes:
    from datetime import datetime, timedelta, timezone

    from claude_pulse.core.tokens import TokenSet

    store.save(TokenSet("sk-ant-oat01-old", "sk-ant-ort01-old",
                        datetime.now(timezone.utc) + timedelta(hours=1), email=email))
    return store.path.read_bytes()


@pytest.mark.parametrize(("saved", "answer", "asked", "kept"), [
    pytest.param("someone.else@example.com", False, True, True, id="other-account-kept"),
    pytest.param("someone.else@example.com", True, True, False, id="other-account-switched"),
    pytest.param(None, False, False, False, id="nothing-saved-no-question"),
])
def test_a_login_of_another_account_asks_before_replacing_the_saved_one(
        config: Config, pulse_home: Path, fake_server: FakeAnthropic, saved: str | None,
        answer: bool, asked: bool, kept: bool) -> None:
    from claude_pulse.fake.demo import follow_login_redirects

    store = CredentialStore(pulse_home / "credentials.json")
    before = saved_login(store, saved) if saved else None
    questions: list[tuple[str, str]] = []

    def confirm(old: str, new: str) -> bool:
        questions.append((old, new))
        return answer

    session = LoginSession(lambda: config, store, UrllibTransport(),
                           open_browser=follow_login_redirects, timeout=20)
    session.watch(confirm_switch=confirm)
    if kept:
        with pytest.raises(LoginError, match=r"Kept the login of someone\.else@example\.com"):
            session.run()
        assert store.path.read_bytes() == before  # the saved login is untouched
    else:
        tokens = session.run()
        assert store.load() == tokens
    assert bool(questions) is asked
    if asked:
        assert questions[0][0] == saved and questions[0][1] != saved


def test_the_same_account_again_is_not_asked(
        config: Config, pulse_home: Path, fake_server: FakeAnthropic) -> None:
    from claude_pulse.fake.demo import follow_login_redirects

    store = CredentialStore(pulse_home / "credentials.json")
    first = LoginSession(lambda: config, store, UrllibTransport(),
                         open_browser=follow_login_redirects, timeout=20).run()
    assert first.email
    asked: list[str] = []
    again = LoginSession(lambda: config, store, UrllibTransport(),
                         open_browser=follow_login_redirects, timeout=20)
    again.watch(confirm_switch=lambda old, new: asked.append(old) is None)
    again.run()
    assert asked == []


@pytest.mark.gui
def test_the_window_asks_switch_or_keep(root: tk.Tk) -> None:
    win = DeepDiveWindow(root, clock=lambda: NOW, on_refresh=lambda: None,
                         on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                         settings=Config, platform="linux")
    answers: list[bool] = []
    try:
        win.set_status(AppStatus(Phase.LOGGING_IN))
        win.show()
        win.ask_switch("ada@example.com", "mallory@example.com", answers.append)
        settle(root, 0.1)
        assert win.switch_buttons is not None
        switch, keep = win.switch_buttons
        assert keep.cget("text") == "Keep ada@example.com" and switch.winfo_ismapped()
        keep.invoke()
        assert answers == [False] and win._switch is None
    finally:
        win.destroy()
