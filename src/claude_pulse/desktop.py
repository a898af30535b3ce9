"""The tray app's decisions, without a display: toggles, login, log out, and what each part shows.

`DesktopController` talks to the tray icon, the Deep Dive window and the poller through the small
protocols below, so every decision is unit-tested with fakes (tests/test_desktop.py); `app.py`
builds the Tk widgets, attaches them and runs the main loop. Every method runs on the UI thread;
the only other thread is the browser login's, whose result comes back through `post`.

The settings are the one source of truth for each toggle: a menu click or the window's switch
asks `Settings.update`, and whatever the settings then say — changed, or refused with a message —
is what the tray menu and the window show. A hand edit of config.json arrives the same way
(`Settings` subscribers), and "Start at login" follows it on the system.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from claude_pulse.core.alerts import logged_in_alert, login_failed_alert
from claude_pulse.core.refresh import RefreshDebounce, RefreshState, refresh_text
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.viewmodel import (
    LOGIN_CHOICE,
    Action,
    LoginOption,
    TrayView,
    login_failure_reason,
    tray_view,
)
from claude_pulse.errors import ConfigError, PulseError

if TYPE_CHECKING:
    from datetime import datetime

    from claude_pulse.config import Config
    from claude_pulse.core.tokens import TokenSet
    from claude_pulse.platform.autostart import Autostart
    from claude_pulse.services.poller import Notifier
    from claude_pulse.services.settings import Settings
    from claude_pulse.ui.tray import MenuEntry

__all__ = ["DesktopController", "LoginRun", "PollerControl", "TrayIcon", "WindowControl"]

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]
# Run a function on the UI thread after a delay; returns its cancel (ui.tk_scheduler).
CallLater = Callable[[float, Callable[[], None]], Callable[[], None]]
# Makes the tray image for a view at a pixel size (Pillow; injected so this module needs none).
IconRenderer = Callable[[TrayView], Callable[[int], Any]]
NO_TRAY_HOST = ("no system tray found: the Deep Dive window stays open (closing it quits); "
                "install a tray such as trayer or stalonetray, or turn on your desktop's tray "
                "(GNOME: the AppIndicator extension)")
# A click on the tray icon first takes the focus from the window, which hides it; the click that
# arrives this soon after is the same one, and must not bring the window straight back.
REOPEN_GUARD_S = 0.4
# How long a login of another account waits for "Switch" before keeping the saved one.
SWITCH_WAIT_S = 300.0


class TrayIcon(Protocol):
    def update(self, renderer: Callable[[int], Any], title: str) -> None: ...

    def refresh_menu(self) -> None: ...


class WindowControl(Protocol):
    @property
    def visible(self) -> bool: ...

    keep_open: bool  # no focus-out hiding: the window is all there is (no tray host)

    def show(self, anchor: tuple[int, int] | None = None) -> None: ...

    def hide(self) -> None: ...

    def set_status(self, status: AppStatus) -> None: ...

    def settings_changed(self) -> None: ...

    def set_problem(self, text: str | None) -> None: ...

    def show_note(self, text: str) -> None: ...

    def show_refresh(self, text: str | None) -> None:
        """Refresh now's words ("Updating…"); None: the button's own label."""
        ...

    def offer_login_choice(self, options: Sequence[LoginOption]) -> None: ...

    def show_login(self, url: str | None, browser_started: bool | None) -> None: ...

    def ask_switch(self, saved: str, new: str, answer: Callable[[bool], None]) -> None: ...

    def ask_log_out(self, answer: Callable[[bool], None]) -> None:
        """Ask "Log out of Claude Pulse?"; `answer(True)` for Log out, False for Cancel,
        Escape or the window closing."""
        ...


class PollerControl(Protocol):
    @property
    def status(self) -> AppStatus: ...

    def refresh_now(self) -> str | None: ...

    def set_window_visible(self, visible: bool) -> None: ...

    def login_started(self) -> None: ...

    def login_failed(self, message: str) -> None: ...

    def logged_in(self) -> None: ...

    def logged_out(self, message: str | None = None) -> None: ...


class LoginRun(Protocol):
    """`services.login.LoginSession`, as the controller uses it."""

    def run(self) -> TokenSet: ...

    def cancel(self) -> None: ...


class Credentials(Protocol):
    def clear(self) -> object: ...  # what it removed; unused here


class DesktopController:
    def __init__(
        self,
        *,
        settings: Settings,
        autostart: Autostart,
        credentials: Credentials,
        new_login: Callable[[], LoginRun],
        clock: Callable[[], datetime],
        post: Post,
        quit: Callable[[], None],
        icon_renderer: IconRenderer,
        notifier: Notifier,
        pointer: Callable[[], tuple[int, int] | None] = lambda: None,
        preferences: Callable[[], None] | None = None,
        spawn: Callable[[Callable[[], None]], None] | None = None,
        claude_code_found: Callable[[], bool] = lambda: False,
        monotonic: Callable[[], float] = time.monotonic,
        call_later: CallLater | None = None,
    ) -> None:
        self._settings = settings
        self._autostart = autostart
        self._credentials = credentials
        self._new_login = new_login
        self._clock = clock
        self._post = post
        self._quit = quit
        self._icon_renderer = icon_renderer
        self._notifier = notifier
        self._pointer = pointer
        self._preferences = preferences
        self._spawn = spawn or _login_thread
        self._claude_code_found = claude_code_found
        self._claude_code_here = False  # looked for once, at start (a Keychain may ask the user)
        self._monotonic = monotonic
        self._call_later = call_later
        # Refresh now, from the window or the tray menu: one debounce for both (issue 15).
        self._refresh = RefreshDebounce()
        self._refresh_timer: Callable[[], None] | None = None
        self._hidden_at = -REOPEN_GUARD_S  # when the window last went away
        self._tray_host: Callable[[], bool | None] | None = None  # set while there is none
        self._status = AppStatus(Phase.LOADING)
        self._login: LoginRun | None = None
        self._login_url: str | None = None
        self._switch_answer: Callable[[bool], None] | None = None
        self._login_browser: bool | None = None
        self._tray: TrayIcon | None = None
        self._window: WindowControl | None = None
        self._poller: PollerControl | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # ---- wiring (app.py) ----

    def attach(self, *, poller: PollerControl, tray: TrayIcon | None,
               window: WindowControl | None) -> None:
        self._poller, self._tray, self._window = poller, tray, window
        self._unsubscribe = self._settings.subscribe(self._settings_changed)
        if window is not None:
            window.set_problem(self._config_problem())

    def started(self) -> None:
        """After the poller's first decision: a first run goes straight into the login."""
        if self._poller is not None and self._poller.status.phase is Phase.SIGNED_OUT:
            self._claude_code_here = self._claude_code_found()
            if self._login_choice(Phase.SIGNED_OUT):
                # The user picks; no browser yet. The window may not have had a status so far.
                self.on_status(self._poller.status)
            else:
                self.start_login()  # spec §5.1, and say so in the window
            self.show_window()

    def detach(self) -> None:
        """Shutting down: cancel a login under way and stop listening to the settings."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._login is not None:
            self._login.cancel()
            self._login = None
        self._answer_switch(False)  # a login thread waiting for "Switch?" keeps the saved one
        self._cancel_refresh_timer()
        self._tray = self._window = None

    # ---- what the parts show ----

    @property
    def status(self) -> AppStatus:
        return self._status

    def tray_view(self) -> TrayView:
        return tray_view(self._status, self._clock(), hour24=self._settings.current().hour24)

    def icon(self) -> Callable[[int], Any]:
        return self._icon_renderer(self.tray_view())

    def menu_lines(self) -> tuple[str, ...]:
        """The numbers the menu opens with where the tray has no tooltip. Any thread: it only
        reads the status and settings the UI thread last set."""
        return self.tray_view().menu_lines

    def on_status(self, status: AppStatus) -> None:
        """The poller's every new state, to the tray icon and the window."""
        self._status = status
        if status.phase is not Phase.LOADING and \
                self._refresh.state(self._monotonic()) is RefreshState.UPDATING:
            # The answer to Refresh now: fresh numbers, or a problem the banner explains.
            self._refresh = self._refresh.answered(status.phase is Phase.OK)
            self._show_refresh()
        self._show_tray()
        if self._window is not None:
            self._window.set_status(status)
            self._show_login_choice(status.phase)

    def menu_entries(self) -> list[MenuEntry]:
        from claude_pulse.ui.tray import MenuEntry

        def current() -> Config:
            return self._settings.current()

        return [
            MenuEntry("Open Deep Dive", self.show_window_at_pointer, default=True),
            MenuEntry("Refresh now", self.refresh_now, text=self.refresh_label),
            MenuEntry("Limit Alerts", lambda: self.set_alerts(not current().notifications_enabled),
                      checked=lambda: current().notifications_enabled, separator_before=True),
            MenuEntry("Start at login",
                      lambda: self.set_autostart(not current().start_with_windows),
                      checked=lambda: current().start_with_windows),
            MenuEntry("Preferences…", self.open_preferences),
            MenuEntry("Log out", self.ask_log_out, separator_before=True),
            MenuEntry("Quit", self._quit),
        ]

    # ---- user actions ----

    def show_window(self) -> None:
        if self._window is not None:
            self._window.show()

    def no_tray_host(self, host_present: Callable[[], bool | None]) -> None:
        """No tray to show the icon: the window stays open, and closing it quits (unless a
        tray has appeared by then: `host_present` is asked again)."""
        log.warning("%s", NO_TRAY_HOST)
        self._tray_host = host_present
        if self._window is not None:
            self._window.keep_open = True
            self._window.show()

    def toggle_window(self) -> None:
        """A left click on the tray icon: open the window, or close it when it is open."""
        window = self._window
        if window is None:
            return
        if window.visible:
            window.hide()
        elif self._monotonic() - self._hidden_at >= REOPEN_GUARD_S:
            window.show(anchor=self._pointer())

    def show_window_at_pointer(self) -> None:
        # The click happened on the tray icon a moment ago: the pointer is still there.
        if self._window is not None:
            self._window.show(anchor=self._pointer())

    def refresh_now(self) -> None:
        """Refresh now (the window's button, F5, the tray menu): one request per 30 s at most,
        counted from the press that sent one (core.refresh)."""
        if self._poller is None:
            return
        pressed = self._refresh.press(self._monotonic())
        if pressed is None:
            log.debug("Refresh now: asked %s s ago; nothing sent",
                      round(self._monotonic() - (self._refresh.asked_at or 0.0)))
            return
        self._refresh = pressed
        refused = self._poller.refresh_now()
        if refused:
            self._refresh = self._refresh.refused()  # nothing was sent
            if self._window is not None:
                self._window.show_note(refused)
        self._show_refresh()

    def refresh_label(self) -> str:
        """The tray menu's "Refresh now" line, read when the menu opens (any thread: it only
        reads a value the UI thread replaces)."""
        return refresh_text(self._refresh.state(self._monotonic())) or "Refresh now"

    def set_alerts(self, enabled: bool) -> None:
        self._change(notifications_enabled=enabled)

    def set_charts(self, shown: bool) -> None:
        """The Deep Dive's "Hide charts" / "Show charts": remembered in `show_charts`."""
        self._change(show_charts=shown)

    def set_autostart(self, enabled: bool) -> None:
        problem = self.change_settings(start_with_windows=enabled)
        if problem:
            self._report(problem)

    def change_settings(self, **changes: Any) -> str | None:
        """Save and apply `changes` together (the Preferences window, the toggles); the reason,
        when they were refused and nothing changed."""
        wanted = changes.get("start_with_windows")
        installed = False
        if wanted is not None and bool(wanted) != self._settings.current().start_with_windows:
            # The system entry first: a setting that says "on" must mean it is really installed.
            problem = self._install_autostart(bool(wanted))
            if problem:
                self._show_settings()
                return problem
            installed = True
        try:
            self._settings.update(**changes)
        except (ConfigError, OSError) as exc:
            if installed:  # nothing was saved: put the system entry back as it was
                self._install_autostart(not wanted)
            self._show_settings()
            return str(exc)
        self._show_settings()
        return None

    def open_preferences(self) -> None:
        if self._preferences is not None:
            self._preferences()

    def ask_log_out(self) -> None:
        """Log out, from the tray menu (or any button): the window asks first, and only its
        Log out removes the login. Nobody logged in: nothing to ask."""
        if self._window is None or self._status.phase is Phase.SIGNED_OUT:
            self.log_out()
            return
        self._window.ask_log_out(self._log_out_answered)
        self._window.show()

    def _log_out_answered(self, yes: bool) -> None:
        if yes:
            self.log_out()

    def log_out(self) -> None:
        """Remove the login now (no question: `ask_log_out` asks)."""
        if self._login is not None:
            self._login.cancel()
            self._login = None
        try:
            self._credentials.clear()
        except OSError as exc:
            self._report(f"could not remove the credentials: {exc}")
            return
        if self._poller is not None:
            self._poller.logged_out()

    def start_login(self) -> None:
        """Run the browser login off the UI thread; the window shows "Waiting for login…"."""
        if self._login is not None:
            return
        session = self._new_login()
        self._login = session
        self._login_url, self._login_browser = None, None
        watch = getattr(session, "watch", None)
        if callable(watch):
            # From the login's threads; the window shows the link, and at once when the browser
            # could not be started (issue 15 item 5).
            watch(on_url=lambda url: self._post(lambda: self._login_seen(session, url, None)),
                  on_browser=lambda ok: self._post(lambda: self._login_seen(session, None, ok)),
                  confirm_switch=lambda old, new: self._confirm_switch(session, old, new))
        if self._poller is not None:
            self._poller.login_started()
        post = self._post

        def work() -> None:
            error: PulseError | None = None
            email: str | None = None
            try:
                email = session.run().email
            except PulseError as exc:
                error = exc
            except Exception as exc:  # a bug must still end "Waiting for login…"
                log.exception("login failed unexpectedly")
                error = PulseError(f"login failed: {exc.__class__.__name__}")
            post(lambda: self._login_finished(session, error, email))

        self._spawn(work)

    def cancel_login(self) -> None:
        """The window's Cancel while the browser login waits."""
        if self._login is not None:
            self._login.cancel()  # run() then ends with "Login was cancelled."
        self._answer_switch(False)

    def _confirm_switch(self, session: LoginRun, saved: str, new: str) -> bool:
        """On the login's thread: ask in the window whether `new` replaces `saved`; no answer
        in SWITCH_WAIT_S (or Cancel, Quit) keeps the saved login (#16 item 9)."""
        answered = threading.Event()
        result = [False]

        def answer(yes: bool) -> None:
            result[0] = yes
            answered.set()

        def ask() -> None:
            if self._login is not session or self._window is None:
                answered.set()
                return
            self._switch_answer = answer
            self._window.ask_switch(saved, new, self._answer_switch)
            if not self._window.visible:
                self._window.show()

        self._post(ask)
        answered.wait(SWITCH_WAIT_S)
        return result[0]

    def _answer_switch(self, yes: bool) -> None:
        answer, self._switch_answer = self._switch_answer, None
        if answer is not None:
            answer(yes)

    def submit_login_code(self, text: str) -> str | None:
        """A code pasted into the window: None when taken, else what to say before a retry."""
        submit = getattr(self._login, "submit_code", None)
        if not callable(submit):
            return "The login is not waiting for a code any more."
        answer = submit(text)
        return answer if isinstance(answer, str) else None

    def _login_seen(self, session: LoginRun, url: str | None, browser: bool | None) -> None:
        if self._login is not session or self._window is None:
            return
        if url is not None:
            self._login_url = url
        if browser is not None:
            self._login_browser = browser
        self._window.show_login(self._login_url, self._login_browser)
        if browser is False and not self._window.visible:
            self._window.show()  # nothing else will tell the user where to log in

    def banner_action(self, action: Action) -> None:
        if action in (Action.LOG_IN, Action.RETRY):
            self.start_login()
        elif action is Action.USE_CLAUDE_CODE:
            self.use_claude_code()

    def use_claude_code(self) -> None:
        """Use Claude Code's login, read-only, from now on (or read it again after `claude`
        renewed it); our own login, if any, is kept."""
        if self._settings.current().login_source != "claude-code":
            problem = self.change_settings(login_source="claude-code")
            if problem:
                self._report(problem)
                return
        if self._login is not None:  # a browser login under way is no longer wanted
            self._login.cancel()
            self._login = None
        if self._poller is not None:
            self._poller.logged_in()

    def window_visibility(self, visible: bool) -> None:
        if not visible:
            self._hidden_at = self._monotonic()
            if self._tray_host is not None:
                if self._tray_host() is False:
                    self._quit()  # the window was all there was
                    return
                self._tray_host = None  # a tray came up meanwhile: the icon lives there now
                if self._window is not None:
                    self._window.keep_open = False
        if self._poller is not None:
            self._poller.set_window_visible(visible)

    # ---- internals ----

    def _login_finished(self, session: LoginRun, error: PulseError | None,
                        email: str | None = None) -> None:
        if self._login is not session:
            return  # cancelled (log out, quit) or replaced by a newer attempt
        self._login = None
        if self._poller is None:
            return
        hidden = self._window is None or not self._window.visible
        if error is None:
            log.info("login complete")
            self._poller.logged_in()
            if hidden:
                # Say which account, where it is seen: a login nobody expected stands out.
                self._notifier.notify(logged_in_alert(email))
        else:
            log.info("login failed: %s", error)
            self._poller.login_failed(str(error))
            if hidden:
                # The window was closed while the browser waited: say so where it is seen.
                # In the window's plain words, never the raw error (issue 15 item 4).
                self._notifier.notify(login_failed_alert(login_failure_reason(str(error))))

    def _login_choice(self, phase: Phase) -> Sequence[LoginOption]:
        # Offered while nobody is signed in and Claude Code's login is here, and while Claude
        # Code's login is the chosen one but needs the user (so our browser login is one click).
        if self._settings.current().login_source == "claude-code":
            wanted = phase in (Phase.SIGNED_OUT, Phase.LOGIN_FAILED, Phase.REAUTH)
        else:
            wanted = self._claude_code_here and phase in (Phase.SIGNED_OUT, Phase.LOGIN_FAILED)
        return LOGIN_CHOICE if wanted else ()

    def _show_login_choice(self, phase: Phase) -> None:
        if self._window is not None:
            self._window.offer_login_choice(self._login_choice(phase))

    def _change(self, **changes: Any) -> None:
        # Whatever happens, every part then shows what the settings say (refused: the old value).
        problem = self.change_settings(**changes)
        if problem:
            self._report(problem)

    def _install_autostart(self, enabled: bool) -> str | None:
        try:
            if enabled:
                self._autostart.enable()
            else:
                self._autostart.disable()
        except (PulseError, OSError) as exc:
            return str(exc)
        return None

    def _settings_changed(self, old: Config, new: Config) -> None:
        # A hand edit of config.json (or the Preferences window) while we run.
        if old.start_with_windows != new.start_with_windows and \
                self._autostart_state() != new.start_with_windows:
            from claude_pulse.platform.autostart import sync_autostart

            sync_autostart(new.start_with_windows, self._autostart)
        self._show_settings()

    def _autostart_state(self) -> bool | None:
        try:
            return bool(self._autostart.is_enabled())
        except (PulseError, OSError):
            return None

    def _show_settings(self) -> None:
        if self._window is not None:
            self._window.settings_changed()
            self._window.set_problem(self._config_problem())
        self._show_tray()  # the clock format shows in the tooltip
        if self._tray is not None:
            self._tray.refresh_menu()

    def _show_refresh(self) -> None:
        # Both surfaces show the debounce's state; at the gap's end it changes by itself.
        now = self._monotonic()
        if self._window is not None:
            self._window.show_refresh(refresh_text(self._refresh.state(now)))
        if self._tray is not None:
            self._tray.refresh_menu()  # native menus read the label now
        self._cancel_refresh_timer()
        wait = self._refresh.changes_in(now)
        if wait is not None and self._call_later is not None:
            self._refresh_timer = self._call_later(wait, self._refresh_timer_fired)

    def _refresh_timer_fired(self) -> None:
        self._refresh_timer = None
        self._show_refresh()

    def _cancel_refresh_timer(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer()
            self._refresh_timer = None

    def _show_tray(self) -> None:
        if self._tray is not None:
            view = self.tray_view()
            self._tray.update(self._icon_renderer(view), view.tooltip)

    def _config_problem(self) -> str | None:
        settings = self._settings
        if not settings.file_is_valid and settings.problems:
            return settings.problems[0]
        return None

    def _report(self, message: str) -> None:
        log.warning("%s", message)
        if self._window is not None:
            self._window.show_note(message)
            self._window.show()


def _login_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="pulse-login", daemon=True).start()
