"""The tray app's decisions (`desktop.DesktopController`) on fakes: no display, no threads.

The tray, the window and the poller are recorders; the settings are real (`Settings` on a
config.json in the test's folder); the login is a scripted stand-in run synchronously.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.core.alerts import Alert
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.tokens import TokenSet
from claude_pulse.core.usage import Usage, Window
from claude_pulse.core.viewmodel import LOGIN_CHOICE, Action, LoginOption, TrayView
from claude_pulse.desktop import DesktopController
from claude_pulse.errors import CodeRefused, LoginError, LoginTimeout, PulseError
from claude_pulse.fake.demo import MemoryAutostart
from claude_pulse.services.settings import Settings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


class FakeTray:
    def __init__(self) -> None:
        self.tooltips: list[str] = []
        self.menu_refreshes = 0

    def update(self, renderer: Callable[[int], Any], title: str) -> None:
        self.tooltips.append(title)
        renderer(16)

    def refresh_menu(self) -> None:
        self.menu_refreshes += 1


class FakeWindow:
    def __init__(self) -> None:
        self.visible = False
        self.statuses: list[AppStatus] = []
        self.notes: list[str] = []
        self.problems: list[str | None] = []
        self.settings_seen = 0
        self.anchors: list[tuple[int, int] | None] = []
        self.choices: list[tuple[LoginOption, ...]] = []
        self.logins: list[tuple[str | None, bool | None]] = []
        self.questions: list[tuple[str, str, Callable[[bool], None]]] = []
        self.refresh_texts: list[str | None] = []
        self.log_out_asked: list[Callable[[bool], None]] = []

    def show(self, anchor: tuple[int, int] | None = None) -> None:
        self.visible = True
        self.anchors.append(anchor)

    def hide(self) -> None:
        self.visible = False

    def set_status(self, status: AppStatus) -> None:
        self.statuses.append(status)

    def settings_changed(self) -> None:
        self.settings_seen += 1

    def set_problem(self, text: str | None) -> None:
        self.problems.append(text)

    def show_note(self, text: str) -> None:
        self.notes.append(text)

    def show_refresh(self, text: str | None) -> None:
        self.refresh_texts.append(text)

    def offer_login_choice(self, options: Sequence[LoginOption]) -> None:
        self.choices.append(tuple(options))

    def show_login(self, url: str | None, browser_started: bool | None) -> None:
        self.logins.append((url, browser_started))

    def ask_switch(self, saved: str, new: str, answer: Callable[[bool], None]) -> None:
        self.questions.append((saved, new, answer))

    def ask_log_out(self, answer: Callable[[bool], None]) -> None:
        self.log_out_asked.append(answer)


class FakePoller:
    def __init__(self, phase: Phase = Phase.OK, refused: str | None = None) -> None:
        self.status = AppStatus(phase)
        self.refused = refused
        self.calls: list[str] = []

    def refresh_now(self) -> str | None:
        self.calls.append("refresh_now")
        return self.refused

    def set_window_visible(self, visible: bool) -> None:
        self.calls.append(f"window_visible:{visible}")

    def login_started(self) -> None:
        self.calls.append("login_started")

    def login_failed(self, message: str) -> None:
        self.calls.append(f"login_failed:{message}")

    def logged_in(self) -> None:
        self.calls.append("logged_in")

    def logged_out(self, message: str | None = None) -> None:
        self.calls.append("logged_out")


class FakeLogin:
    def __init__(self, error: PulseError | None = None) -> None:
        self.error = error
        self.cancelled = False

    def run(self) -> TokenSet:
        if self.error is not None:
            raise self.error
        return TokenSet("sk-ant-oat01-x", "sk-ant-ort01-x", NOW + timedelta(hours=8))

    def cancel(self) -> None:
        self.cancelled = True


class FakeCredentials:
    def __init__(self, fail: bool = False) -> None:
        self.cleared = 0
        self.fail = fail

    def clear(self) -> bool:
        if self.fail:
            raise PermissionError(13, "Permission denied")
        self.cleared += 1
        return True


class BrokenAutostart(MemoryAutostart):
    def enable(self) -> None:
        raise PulseError("the registry refused the Run entry")


class Scene:
    def __init__(self, tmp_path: Path, *, autostart: MemoryAutostart | None = None,
                 poller: FakePoller | None = None, login: FakeLogin | None = None,
                 credentials: FakeCredentials | None = None, deferred: bool = False,
                 claude_code_found: bool = False) -> None:
        self.config = tmp_path / "config.json"
        self.settings = Settings(self.config)
        self.autostart = autostart or MemoryAutostart()
        self.tray, self.window = FakeTray(), FakeWindow()
        self.poller = poller or FakePoller()
        self.logins: list[FakeLogin] = []
        self.next_login = login or FakeLogin()
        self.credentials = credentials or FakeCredentials()
        self.alerts: list[Alert] = []
        self.quits = 0
        self.posted: list[Callable[[], None]] = []
        self.spawned: list[Callable[[], None]] = []
        self.deferred = deferred
        self.preferences_opened: list[bool] = []

        def new_login() -> FakeLogin:
            self.logins.append(self.next_login)
            return self.next_login

        def spawn(work: Callable[[], None]) -> None:
            self.spawned.append(work) if deferred else work()

        self.now_s = 100.0  # the monotonic clock
        self.timers: list[tuple[float, Callable[[], None]]] = []  # (when, fn), armed

        def call_later(delay: float, fn: Callable[[], None]) -> Callable[[], None]:
            timer = (self.now_s + delay, fn)
            self.timers.append(timer)
            return lambda: self.timers.remove(timer) if timer in self.timers else None
        self.controller = DesktopController(
            settings=self.settings, autostart=self.autostart, credentials=self.credentials,
            new_login=new_login, clock=lambda: NOW, post=self.post, quit=self.quit,
            icon_renderer=lambda view: (lambda size: (view.text, size)),
            notifier=self, pointer=lambda: (640, 12), spawn=spawn,
            preferences=lambda: self.preferences_opened.append(True),
            claude_code_found=lambda: claude_code_found,
            monotonic=lambda: self.now_s, call_later=call_later)
        self.controller.attach(poller=self.poller, tray=self.tray, window=self.window)

    def post(self, fn: Callable[[], None]) -> None:
        fn()  # this test is "the UI thread"

    def advance(self, seconds: float) -> None:
        """The monotonic clock moves on; timers due by then run."""
        self.now_s += seconds
        for timer in sorted((t for t in self.timers if t[0] <= self.now_s), key=lambda t: t[0]):
            self.timers.remove(timer)
            timer[1]()

    def quit(self) -> None:
        self.quits += 1

    def notify(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def on_disk(self) -> dict[str, Any]:
        return dict(json.loads(self.config.read_text(encoding="utf-8")))


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    return Scene(tmp_path)


def test_a_status_goes_to_the_tray_and_the_window(scene: Scene) -> None:
    snap = Snapshot(NOW, Usage(Window(42.0, NOW + timedelta(hours=2)), None), {})
    status = AppStatus(Phase.OK, snap)
    scene.controller.on_status(status)
    assert scene.window.statuses == [status]
    assert scene.tray.tooltips[-1].splitlines()[1] == "Session 42% · resets in 2h"
    view = scene.controller.tray_view()
    assert isinstance(view, TrayView) and view.text == "42"
    assert scene.controller.icon()(24) == ("42", 24)
    assert scene.controller.menu_lines()[0].startswith("Session 42% · resets ")


def test_the_alerts_toggle_saves_and_every_part_shows_the_setting(scene: Scene) -> None:
    entries = {e.label: e for e in scene.controller.menu_entries()}
    assert entries["Limit Alerts"].checked is not None
    assert entries["Limit Alerts"].checked() is True
    entries["Limit Alerts"].action()  # the menu click
    assert scene.on_disk() == {"notifications_enabled": False}
    assert entries["Limit Alerts"].checked() is False
    assert scene.window.settings_seen >= 1 and scene.tray.menu_refreshes >= 1
    scene.controller.set_alerts(True)  # the window's switch
    assert scene.on_disk() == {"notifications_enabled": True}


def test_collapsing_the_charts_is_remembered_in_the_settings(scene: Scene) -> None:
    scene.controller.set_charts(False)  # the window's "Hide charts"
    assert scene.on_disk() == {"show_charts": False}
    assert scene.settings.current().show_charts is False
    assert scene.window.settings_seen >= 1
    scene.controller.set_charts(True)
    assert scene.on_disk() == {"show_charts": True}


def test_a_toggle_over_a_corrupt_config_is_refused_and_said(scene: Scene) -> None:
    scene.config.write_text("{ not json", encoding="utf-8")
    scene.controller.set_alerts(False)
    assert scene.config.read_text(encoding="utf-8") == "{ not json"
    assert scene.settings.current().notifications_enabled is True  # still what is shown
    assert scene.window.visible and "not saving over it" in scene.window.notes[-1]


def test_start_at_login_installs_first_and_saves_only_then(tmp_path: Path) -> None:
    ok = Scene(tmp_path / "ok")
    ok.controller.set_autostart(True)
    assert ok.autostart.is_enabled() and ok.on_disk() == {"start_with_windows": True}
    broken = Scene(tmp_path / "broken", autostart=BrokenAutostart())
    broken.controller.set_autostart(True)
    assert not broken.config.exists()  # nothing saved: the setting still says off
    assert "registry refused" in broken.window.notes[-1]
    entry = next(e for e in broken.controller.menu_entries() if e.label == "Start at login")
    assert entry.checked is not None and entry.checked() is False


def test_a_hand_edit_of_start_with_windows_is_applied_on_the_system(scene: Scene) -> None:
    scene.config.write_text(json.dumps({"start_with_windows": True}), encoding="utf-8")
    assert scene.settings.check()
    assert scene.autostart.is_enabled()
    scene.config.write_text(json.dumps({"start_with_windows": False}), encoding="utf-8")
    scene.settings.check()
    assert not scene.autostart.is_enabled()


def test_a_hand_edit_that_breaks_the_file_shows_the_problem(scene: Scene) -> None:
    scene.config.write_text("{", encoding="utf-8")
    scene.settings.check()
    assert scene.window.problems[-1] is not None and "cannot be read" in scene.window.problems[-1]
    scene.config.write_text("{}", encoding="utf-8")
    scene.settings.check()
    assert scene.window.problems[-1] is None


def test_a_first_run_goes_straight_into_the_login(tmp_path: Path) -> None:
    scene = Scene(tmp_path, poller=FakePoller(Phase.SIGNED_OUT))
    scene.controller.started()
    assert scene.window.visible
    assert scene.poller.calls == ["login_started", "logged_in"]


def test_a_first_run_with_claude_codes_login_here_offers_both_and_waits(
        tmp_path: Path) -> None:
    scene = Scene(tmp_path, poller=FakePoller(Phase.SIGNED_OUT), claude_code_found=True)
    scene.controller.started()
    assert scene.window.visible
    assert scene.poller.calls == []  # no browser opened behind the user's back
    assert scene.window.choices[-1] == LOGIN_CHOICE
    assert [o.label for o in LOGIN_CHOICE] == ["Log in with your browser",
                                               "Use Claude Code's login (read-only)"]


def test_choosing_claude_codes_login_saves_the_source_and_fetches(tmp_path: Path) -> None:
    scene = Scene(tmp_path, poller=FakePoller(Phase.SIGNED_OUT), claude_code_found=True)
    scene.controller.started()
    scene.controller.banner_action(Action.USE_CLAUDE_CODE)
    assert scene.on_disk() == {"login_source": "claude-code"}
    assert scene.poller.calls == ["logged_in"]
    assert scene.credentials.cleared == 0
    scene.controller.on_status(AppStatus(Phase.LOADING))
    assert scene.window.choices[-1] == ()  # gone once numbers are on their way


def test_choosing_the_browser_from_the_choice_runs_our_login(tmp_path: Path) -> None:
    scene = Scene(tmp_path, poller=FakePoller(Phase.SIGNED_OUT), claude_code_found=True)
    scene.controller.started()
    scene.controller.banner_action(Action.LOG_IN)
    assert scene.poller.calls == ["login_started", "logged_in"]
    assert not scene.config.exists() or "login_source" not in scene.on_disk()


def test_an_expired_claude_code_login_offers_both_ways_again(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.settings.update(login_source="claude-code")
    scene.controller.on_status(AppStatus(Phase.REAUTH, message="Claude Code's login has expired"))
    assert scene.window.choices[-1] == LOGIN_CHOICE
    scene.controller.banner_action(Action.USE_CLAUDE_CODE)  # after running `claude`: read again
    assert scene.poller.calls == ["logged_in"]
    scene.controller.on_status(AppStatus(Phase.REAUTH))
    assert scene.window.choices[-1] == LOGIN_CHOICE


def test_without_claude_codes_login_no_choice_is_offered(tmp_path: Path) -> None:
    scene = Scene(tmp_path, poller=FakePoller(Phase.SIGNED_OUT))
    scene.controller.started()
    scene.controller.on_status(AppStatus(Phase.SIGNED_OUT))
    assert all(choice == () for choice in scene.window.choices)


def test_a_failed_login_is_said_and_notified_when_the_window_is_closed(tmp_path: Path) -> None:
    scene = Scene(tmp_path, login=FakeLogin(LoginTimeout("No answer from the browser.")))
    scene.controller.banner_action(Action.LOG_IN)
    assert scene.poller.calls == ["login_started", "login_failed:No answer from the browser."]
    (alert,) = scene.alerts
    assert alert.kind == "login_failed" and "No answer" in alert.body
    scene.window.visible = True
    scene.controller.banner_action(Action.RETRY)
    assert len(scene.alerts) == 1  # the window shows it; no notification on top


@pytest.mark.parametrize(("error", "body"), [
    pytest.param(CodeRefused("The login code was refused (invalid_grant): it expired or was "
                             "already used. Run `claude-pulse login` again."),
                 "The login code was refused: it was mistyped, too old or already used.",
                 id="code-refused"),
    pytest.param(LoginError("The login answer did not match this login attempt (state "
                            "mismatch)."),
                 "The answer did not belong to this login, so it was refused.", id="state"),
])
def test_a_failed_login_notification_has_the_windows_plain_words(
        tmp_path: Path, error: PulseError, body: str) -> None:
    """Issue 15 item 4: no invalid_grant, no terminal command, no technical term."""
    scene = Scene(tmp_path, login=FakeLogin(error))
    scene.controller.banner_action(Action.LOG_IN)
    (alert,) = scene.alerts
    assert alert.body == body
    assert "invalid_grant" not in alert.body and "claude-pulse" not in alert.body


def test_a_login_in_the_background_says_which_account(tmp_path: Path) -> None:
    """Issue 16 item 9: a login finishing with the window closed is notified with its email."""
    class Ada(FakeLogin):
        def run(self) -> TokenSet:
            return TokenSet("sk-ant-oat01-x", "sk-ant-ort01-x", NOW + timedelta(hours=8),
                            email="ada@example.com")

    scene = Scene(tmp_path, login=Ada())
    scene.controller.banner_action(Action.LOG_IN)
    assert scene.poller.calls == ["login_started", "logged_in"]
    (alert,) = scene.alerts
    assert alert.kind == "logged_in"
    assert alert.body == "Logged in as ada@example.com. Not you? Log out from the tray menu."
    scene.window.visible = True  # the window shows the account itself (desk's part)
    scene.controller.banner_action(Action.LOG_IN)
    assert len(scene.alerts) == 1


def test_a_login_without_an_email_still_says_it_logged_in(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.controller.banner_action(Action.LOG_IN)
    (alert,) = scene.alerts
    assert alert.body.startswith("Logged in; Anthropic did not say which account.")


def test_a_bug_in_the_login_still_ends_waiting(tmp_path: Path) -> None:
    class Buggy(FakeLogin):
        def run(self) -> TokenSet:
            raise KeyError("oops")

    scene = Scene(tmp_path, login=Buggy())
    scene.controller.start_login()
    assert scene.poller.calls[-1] == "login_failed:login failed: KeyError"


def test_one_login_at_a_time_and_log_out_cancels_it(tmp_path: Path) -> None:
    scene = Scene(tmp_path, deferred=True)
    scene.controller.start_login()
    scene.controller.start_login()  # a second click while the browser is open
    assert len(scene.logins) == 1 and len(scene.spawned) == 1
    scene.controller.log_out()
    assert scene.logins[0].cancelled and scene.credentials.cleared == 1
    scene.spawned[0]()  # the cancelled login's thread ends after all
    assert scene.poller.calls == ["login_started", "logged_out"]  # its result is dropped


def test_the_menus_log_out_asks_first_in_the_window(scene: Scene) -> None:
    scene.controller.on_status(AppStatus(Phase.OK))
    log_out = next(e for e in scene.controller.menu_entries() if e.label == "Log out")
    log_out.action()
    assert scene.window.visible and len(scene.window.log_out_asked) == 1
    scene.window.log_out_asked[0](False)  # Cancel (or Escape, or the window closing)
    assert scene.credentials.cleared == 0 and "logged_out" not in scene.poller.calls
    log_out.action()
    scene.window.log_out_asked[1](True)
    assert scene.credentials.cleared == 1 and scene.poller.calls[-1] == "logged_out"


def test_log_out_with_nobody_logged_in_has_nothing_to_ask(scene: Scene) -> None:
    scene.controller.on_status(AppStatus(Phase.SIGNED_OUT))
    scene.controller.ask_log_out()
    assert scene.window.log_out_asked == [] and scene.credentials.cleared == 1


def test_log_out_that_cannot_remove_the_file_says_so(tmp_path: Path) -> None:
    scene = Scene(tmp_path, credentials=FakeCredentials(fail=True))
    scene.controller.log_out()
    assert "could not remove the credentials" in scene.window.notes[-1]
    assert "logged_out" not in scene.poller.calls


def test_refresh_refused_during_a_cooldown_is_a_note(tmp_path: Path) -> None:
    scene = Scene(tmp_path, poller=FakePoller(refused="Rate-limited: next try at 14:05"))
    scene.controller.refresh_now()
    assert scene.window.notes == ["Rate-limited: next try at 14:05"]
    # Nothing was sent, so nothing is debounced: the next press asks the poller again.
    scene.controller.refresh_now()
    assert scene.poller.calls == ["refresh_now", "refresh_now"]
    assert scene.window.refresh_texts == [None, None] and not scene.timers


def fresh(seconds: float = 0.0) -> AppStatus:
    at = NOW + timedelta(seconds=seconds)
    return AppStatus(Phase.OK, Snapshot(at, Usage(Window(42.0, NOW + timedelta(hours=2)),
                                                  None), {}))


def test_refresh_now_is_one_debounce_for_the_window_and_the_tray_menu(scene: Scene) -> None:
    """Issue 15 item 6: the window's button (and F5) and the menu's entry share one 30 s."""
    menu = next(e for e in scene.controller.menu_entries() if e.label == "Refresh now")
    window_press = scene.controller.refresh_now  # what the window's button calls
    assert menu.label_now() == "Refresh now"
    menu.action()
    assert menu.label_now() == "Updating…" and scene.window.refresh_texts == ["Updating…"]
    window_press()
    menu.action()
    scene.controller.on_status(AppStatus(Phase.LOADING, fresh().snapshot))
    assert menu.label_now() == "Updating…"
    scene.controller.on_status(fresh(2))
    assert menu.label_now() == "Updated just now"
    assert scene.window.refresh_texts[-1] == "Updated just now"
    scene.advance(20)
    window_press()
    menu.action()
    assert scene.poller.calls == ["refresh_now"]  # one request in 20 s, however many presses
    menus = scene.tray.menu_refreshes
    scene.advance(10)  # the gap's end: both say "Refresh" again, by themselves
    assert menu.label_now() == "Refresh now" and scene.window.refresh_texts[-1] is None
    assert scene.tray.menu_refreshes == menus + 1  # native menus re-read the label
    window_press()
    assert scene.poller.calls == ["refresh_now", "refresh_now"]


def test_a_failed_refresh_still_counts_and_says_it_checked(scene: Scene) -> None:
    scene.controller.refresh_now()
    scene.controller.on_status(AppStatus(Phase.SERVER_ERROR, fresh().snapshot))
    assert scene.window.refresh_texts[-1] == "Checked just now"  # the banner says what
    scene.advance(5)
    scene.controller.refresh_now()
    assert scene.poller.calls == ["refresh_now"]  # the ailing server is not asked again


def test_an_unanswered_refresh_does_not_stick(scene: Scene) -> None:
    # No answer ever came (the poller had nothing to do): the button works again after 30 s.
    scene.controller.refresh_now()
    scene.advance(30)
    assert scene.window.refresh_texts[-1] is None
    scene.controller.refresh_now()
    assert scene.poller.calls == ["refresh_now", "refresh_now"]


def test_the_menu(scene: Scene) -> None:
    entries = scene.controller.menu_entries()
    assert [e.label for e in entries] == ["Open Deep Dive", "Refresh now", "Limit Alerts",
                                          "Start at login", "Preferences…", "Log out", "Quit"]
    assert [e.label for e in entries if e.default] == ["Open Deep Dive"]
    entries[0].action()
    assert scene.window.anchors == [(640, 12)]  # at the pointer, by the tray icon
    entries[-1].action()
    assert scene.quits == 1


def test_a_left_click_toggles_the_window(scene: Scene) -> None:
    scene.controller.toggle_window()
    assert scene.window.visible and scene.window.anchors == [(640, 12)]  # at the tray icon
    scene.now_s += 5
    scene.controller.toggle_window()
    assert not scene.window.visible
    scene.now_s += 5
    scene.controller.toggle_window()
    assert scene.window.visible


def test_the_click_that_took_the_focus_away_does_not_reopen_the_window(scene: Scene) -> None:
    """Windows: clicking the tray icon first hides the window (it lost the focus to the
    taskbar); that same click then arrives as a left click and must leave it closed."""
    scene.controller.toggle_window()
    scene.window.hide()
    scene.controller.window_visibility(False)  # the window reports its focus-out hide
    scene.now_s += 0.15
    scene.controller.toggle_window()
    assert not scene.window.visible
    scene.now_s += 1.0  # a later, separate click opens it again
    scene.controller.toggle_window()
    assert scene.window.visible


def test_without_a_tray_host_the_window_stays_and_closing_it_quits(scene: Scene) -> None:
    host = {"present": False}
    scene.window.keep_open = False
    scene.controller.no_tray_host(lambda: host["present"])
    assert scene.window.visible and scene.window.keep_open  # no focus-out hiding
    scene.window.hide()
    scene.controller.window_visibility(False)  # Escape or the close button
    assert scene.quits == 1


def test_a_tray_that_came_up_later_keeps_the_app_when_the_window_closes(scene: Scene) -> None:
    host = {"present": False}
    scene.controller.no_tray_host(lambda: host["present"])
    host["present"] = True  # e.g. the panel started after us; the icon docked at its update
    scene.window.hide()
    scene.controller.window_visibility(False)
    assert scene.quits == 0 and scene.window.keep_open is False


def test_window_visibility_reaches_the_poller(scene: Scene) -> None:
    scene.controller.window_visibility(True)
    assert scene.poller.calls == ["window_visible:True"]


def test_detach_cancels_a_login_and_stops_listening(tmp_path: Path) -> None:
    scene = Scene(tmp_path, deferred=True)
    scene.controller.start_login()
    scene.controller.detach()
    assert scene.logins[0].cancelled
    seen = scene.window.settings_seen
    scene.settings.update(notifications_enabled=False)
    assert scene.window.settings_seen == seen


def test_preferences_save_together_and_a_refused_save_changes_nothing(scene: Scene) -> None:
    problem = scene.controller.change_settings(poll_interval_seconds=120, start_with_windows=True,
                                               user_agent="prefs/1")
    assert problem is None
    assert scene.on_disk() == {"poll_interval_seconds": 120, "start_with_windows": True,
                               "user_agent": "prefs/1"}
    assert scene.autostart.is_enabled()
    scene.config.write_text("{ broken", encoding="utf-8")
    problem = scene.controller.change_settings(start_with_windows=False)
    assert problem is not None and "not saving over it" in problem
    assert scene.autostart.is_enabled()  # put back: the setting still says on
    assert scene.window.notes == []  # the Preferences window shows it, not the Deep Dive


def test_the_menu_opens_the_preferences(scene: Scene) -> None:
    entry = next(e for e in scene.controller.menu_entries() if e.label == "Preferences…")
    entry.action()
    assert scene.preferences_opened == [True]


class WatchedLogin(FakeLogin):
    """A login that reports its link and a browser that would not start, then waits."""

    def __init__(self) -> None:
        super().__init__()
        self.codes: list[str] = []
        self.cancelled = False

    def watch(self, *, on_url: Callable[[str], None] | None = None,
              on_browser: Callable[[bool], None] | None = None,
              confirm_switch: Callable[[str, str], bool] | None = None) -> None:
        assert on_url is not None and on_browser is not None and confirm_switch is not None
        on_url("https://claude.example/oauth/authorize?x=1")
        on_browser(False)

    def submit_code(self, text: str) -> str | None:
        self.codes.append(text)
        return None if "#" in text else "That is not the whole code."

    def cancel(self) -> None:
        self.cancelled = True


def test_the_window_gets_the_link_at_once_and_passes_codes_and_cancel_on(
        tmp_path: Path) -> None:
    scene = Scene(tmp_path, poller=FakePoller(Phase.SIGNED_OUT))
    login = WatchedLogin()
    scene.controller._new_login = lambda: login
    scene.controller._spawn = lambda work: None  # the browser wait never ends by itself
    scene.controller.start_login()
    assert scene.window.logins[-1] == ("https://claude.example/oauth/authorize?x=1", False)
    assert scene.window.visible  # the browser did not open: the window says so
    assert scene.controller.submit_login_code("abc") == "That is not the whole code."
    assert scene.controller.submit_login_code("abc#def") is None
    assert login.codes == ["abc", "abc#def"]
    scene.controller.cancel_login()
    assert login.cancelled


def test_a_switch_question_waits_for_the_window_and_cancel_keeps_the_saved_login(
        tmp_path: Path) -> None:
    import threading

    scene = Scene(tmp_path, poller=FakePoller(Phase.SIGNED_OUT))
    login = WatchedLogin()
    scene.controller._new_login = lambda: login
    scene.controller._spawn = lambda work: None
    scene.controller.start_login()
    results: list[bool] = []

    def ask() -> None:
        results.append(scene.controller._confirm_switch(login, "ada@example.com",
                                                        "mallory@example.com"))

    worker = threading.Thread(target=ask)
    worker.start()
    deadline = 50
    while not scene.window.questions and deadline:
        deadline -= 1
        worker.join(0.05)
    saved, new, answer = scene.window.questions[-1]
    assert (saved, new) == ("ada@example.com", "mallory@example.com")
    answer(True)
    worker.join(2)
    assert results == [True]
    worker = threading.Thread(target=ask)
    worker.start()
    while len(scene.window.questions) < 2:
        worker.join(0.05)
    scene.controller.cancel_login()  # Cancel (or Quit) while asked: keep the saved login
    worker.join(2)
    assert results == [True, False]
