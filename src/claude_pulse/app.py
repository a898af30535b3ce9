"""The desktop app's composition root: Tk root, tray, Deep Dive window, poller, login, alerts.

Threads (design.md §4):

* main — Tk's `mainloop()`. Owns every widget, the poller's state and all decisions.
* pulse-tray — pystray's `Icon.run()`; its callbacks only `post()` work to the main thread.
* pulse-fetch — the poller's network worker; results come back through `post()`.
* pulse-login — a browser login (`LoginSession.run()`), while one is under way.
* the notifier's asyncio thread and the single-instance listener, both idle in blocking calls.

Nothing polls: the main loop sleeps until a timer the poller armed, a once-a-minute countdown
while the window is visible, a post from another thread, a signal, or user input.

Shutdown (Quit, SIGTERM, Ctrl-C) leaves the main loop, then stops each part with a bounded wait;
every thread is a daemon, so nothing can keep the process alive after `run()` returns.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import sys
import threading
import time
import tkinter as tk
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.viewmodel import Action, TrayView, tray_view
from claude_pulse.errors import ConfigError, PulseError
from claude_pulse.ui.deep_dive import TITLE, DeepDiveWindow
from claude_pulse.ui.tk_scheduler import TkScheduler
from claude_pulse.ui.tray import MenuEntry, Tray, build_tk_menu

if TYPE_CHECKING:
    from claude_pulse.config import Config
    from claude_pulse.services.login import LoginSession
    from claude_pulse.services.poller import Poller
    from claude_pulse.wiring import Services

__all__ = ["DesktopApp"]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INTERRUPTED = 130


class DesktopApp:
    """The tray app. `run()` blocks on the Tk main loop and returns the exit code."""

    def __init__(
        self,
        services: Services,
        *,
        login_timeout_s: float | None = None,
        show_window: bool = False,
        single_instance: bool = True,
    ) -> None:
        self.services = services
        self._login_timeout_s = login_timeout_s
        self._show_window_at_start = show_window
        self._single_instance = single_instance
        self._unsubscribe: Callable[[], None] | None = None
        self._exit_code = EXIT_OK
        self._login: LoginSession | None = None
        self._status = AppStatus(Phase.LOADING)
        self._root: tk.Tk | None = None
        self._scheduler: TkScheduler | None = None
        self._tray: Tray | None = None
        self._menu: tk.Menu | None = None
        self._window: DeepDiveWindow | None = None
        self._poller: Poller | None = None
        self._instance: Any = None

    # ---- lifecycle ----

    def run(self) -> int:
        if self._single_instance and not self._become_the_instance():
            return EXIT_OK
        try:
            root = tk.Tk(className="claude-pulse")
        except tk.TclError as exc:
            self._release_instance()
            raise PulseError(f"cannot open the desktop display: {exc}") from exc
        try:
            self._build(root)
            self._start()
            root.mainloop()
        finally:
            self._shutdown()
        return self._exit_code

    def _become_the_instance(self) -> bool:
        from claude_pulse.platform.instance import SingleInstance

        instance = SingleInstance(self.services.home, self._on_instance_message)
        if instance.acquire():
            self._instance = instance
            return True
        told = instance.notify_running("show")
        print(
            "claude-pulse: already running" +
            ("; its Deep Dive window was opened" if told else " (it did not answer)"),
            file=sys.stderr,
        )
        return False

    def _build(self, root: tk.Tk) -> None:
        from claude_pulse.platform.autostart import sync_autostart
        from claude_pulse.ui.logo import draw_logo

        services = self.services
        self._root = root
        root.withdraw()  # the root is only the anchor for the window and the popup menu
        root.title(f"{TITLE} (main)")
        scheduler = self._scheduler = TkScheduler(root)
        scheduler.handle_signals(self._on_signal)

        settings = services.settings.current()
        # The config key wins at start-up (it may have been edited by hand).
        sync_autostart(settings.start_with_windows, services.autostart)

        self._window = DeepDiveWindow(
            root,
            clock=services.clock,
            on_refresh=self.refresh_now,
            on_alerts_toggled=self.set_alerts,
            on_action=self._banner_action,
            on_visibility=self._window_visibility,
            settings=services.settings.current,
            logo=draw_logo(64),
        )
        self._window.set_problem(self._config_problem())

        entries = self.menu_entries()
        self._menu = build_tk_menu(root, entries)
        self._tray = Tray(post=scheduler.post, entries=entries,
                          on_context_menu=self.popup_menu, on_session_end=self.quit)
        self._poller = services.poller(scheduler=scheduler, post=scheduler.post,
                                       on_status=self._on_status)
        self._unsubscribe = services.settings.subscribe(self._settings_changed)

    def _start(self) -> None:
        assert self._tray is not None and self._poller is not None
        status = self._status
        tooltip = self._tray_view(status).tooltip
        self._tray.start(self._tray_renderer(status), tooltip)
        self._poller.start()
        if self._poller.status.phase is Phase.SIGNED_OUT:
            # First run (spec §5.1): straight into the browser login, and say so in the window.
            self.start_login()
            self.show_window()
        elif self._show_window_at_start:
            self.show_window()

    def quit(self, code: int = EXIT_OK) -> None:
        """Leave the main loop; `run()` then shuts everything down and returns `code`."""
        self._exit_code = code
        if self._root is not None:
            self._root.quit()

    def _shutdown(self) -> None:
        started = time.monotonic()
        if self._scheduler is not None:
            self._scheduler.close()  # no more posts; signal handling restored
        if self._login is not None:
            self._login.cancel()
            self._login = None
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._poller is not None:
            self._poller.stop()
        if self._tray is not None:
            self._tray.stop()
        notifier_close = getattr(self.services.notifier, "close", None)
        if callable(notifier_close):
            with contextlib.suppress(Exception):
                notifier_close()
        self._release_instance()
        if self._window is not None:
            self._window.destroy()
        if self._root is not None:
            with contextlib.suppress(tk.TclError):
                self._root.destroy()
        # A worker that outlives us (a stuck fetch) still holds this app through its
        # callbacks; it must not hold Tk objects as well (see TkScheduler.close).
        self._root = self._window = self._menu = None
        # Tk widget trees are reference cycles, freed by the cyclic GC, which runs on whatever
        # thread allocates next; Tcl aborts the process when that is not this one. Collect here.
        gc.collect()
        log.info("stopped in %.2f s", time.monotonic() - started)

    def _release_instance(self) -> None:
        if self._instance is not None:
            with contextlib.suppress(Exception):
                self._instance.release()
            self._instance = None

    # ---- the menu (tray: native menu; xorg: Tk popup) ----

    def menu_entries(self) -> list[MenuEntry]:
        def current() -> Config:
            return self.services.settings.current()

        return [
            MenuEntry("Open Deep Dive", self.show_window_at_pointer, default=True),
            MenuEntry("Refresh now", self.refresh_now),
            MenuEntry("Limit Alerts", lambda: self.set_alerts(not current().notifications_enabled),
                      checked=lambda: current().notifications_enabled, separator_before=True),
            MenuEntry("Start at login",
                      lambda: self.set_autostart(not current().start_with_windows),
                      checked=lambda: current().start_with_windows),
            MenuEntry("Log out", self.log_out, separator_before=True),
            MenuEntry("Quit", self.quit),
        ]

    def popup_menu(self, x: int, top: int, bottom: int) -> None:
        """xorg: show the Tk menu under the tray icon (above it when the tray is low)."""
        menu, root = self._menu, self._root
        if menu is None or root is None:
            return
        menu.update_idletasks()
        height = menu.winfo_reqheight()
        y = bottom + 2 if bottom + 2 + height <= root.winfo_screenheight() else top - height - 2
        log.debug("tray menu at %d,%d", x, y)
        # X11 only: tk_popup returns at once and Tk's own grab closes the menu on a click
        # elsewhere or Escape (the usual `finally: grab_release()` would defeat that).
        menu.tk_popup(x, max(0, y))

    # ---- user actions (main thread) ----

    def show_window(self) -> None:
        if self._window is not None:
            self._window.show()

    def show_window_at_pointer(self) -> None:
        if self._window is None or self._root is None:
            return
        # The click happened on the tray icon a moment ago: the pointer is still there.
        self._window.show(anchor=self._root.winfo_pointerxy())

    def refresh_now(self) -> None:
        if self._poller is None:
            return
        refused = self._poller.refresh_now()
        if refused and self._window is not None:
            self._window.show_note(refused)

    def set_alerts(self, enabled: bool) -> None:
        self._change(notifications_enabled=enabled)

    def set_autostart(self, enabled: bool) -> None:
        # The system entry first: a setting that says "on" must mean it is really installed.
        autostart = self.services.autostart
        try:
            if enabled:
                autostart.enable()
            else:
                autostart.disable()
        except (PulseError, OSError) as exc:
            self._report(str(exc))
            self._show_settings()
            return
        self._change(start_with_windows=enabled)

    def _change(self, **changes: Any) -> None:
        try:
            self.services.settings.update(**changes)
        except (ConfigError, OSError) as exc:
            self._report(str(exc))
        # Whatever happened, show what the settings now say (nothing saved: the old value).
        self._show_settings()

    def log_out(self) -> None:
        if self._login is not None:
            self._login.cancel()
            self._login = None
        try:
            self.services.credentials.clear()
        except OSError as exc:
            self._report(f"could not remove the credentials: {exc}")
            return
        if self._poller is not None:
            self._poller.logged_out()

    def start_login(self) -> None:
        """Run the browser login on a worker thread; the window shows "Waiting for login…"."""
        if self._login is not None or self._scheduler is None:
            return
        session = self.services.login_session(timeout=self._login_timeout_s)
        self._login = session
        if self._poller is not None:
            self._poller.login_started()
        post = self._scheduler.post

        def work() -> None:
            error: PulseError | None = None
            try:
                session.run()
            except PulseError as exc:
                error = exc
            except Exception as exc:  # a bug must still end "Waiting for login…"
                log.exception("login failed unexpectedly")
                error = PulseError(f"login failed: {exc.__class__.__name__}")
            post(lambda: self._login_finished(session, error))

        threading.Thread(target=work, name="pulse-login", daemon=True).start()

    def _login_finished(self, session: LoginSession, error: PulseError | None) -> None:
        if self._login is not session:
            return  # cancelled (log out, quit) or replaced by a newer attempt
        self._login = None
        if self._poller is None:
            return
        if error is None:
            log.info("login complete")
            self._poller.logged_in()
        else:
            log.info("login failed: %s", error)
            self._poller.login_failed(str(error))

    def _banner_action(self, action: Action) -> None:
        if action in (Action.LOG_IN, Action.RETRY):
            self.start_login()

    # ---- callbacks from the parts ----

    def _on_status(self, status: AppStatus) -> None:
        self._status = status
        if self._tray is not None:
            view = self._tray_view(status)
            self._tray.update(self._tray_renderer(status), view.tooltip)
        if self._window is not None:
            self._window.set_status(status)

    def _tray_renderer(self, status: AppStatus) -> Callable[[int], Any]:
        from claude_pulse.ui.render import render_tray_icon

        view = self._tray_view(status)
        return lambda size: render_tray_icon(view, size)

    def _settings_changed(self, old: Config, new: Config) -> None:
        # A hand edit of config.json (or the Preferences window) while we run.
        if old.start_with_windows != new.start_with_windows:
            from claude_pulse.platform.autostart import sync_autostart

            sync_autostart(new.start_with_windows, self.services.autostart)
        self._show_settings()

    def _show_settings(self) -> None:
        if self._window is not None:
            self._window.settings_changed()
            self._window.set_problem(self._config_problem())
        if self._tray is not None:
            status = self._status  # the clock format shows in the tooltip
            self._tray.update(self._tray_renderer(status), self._tray_view(status).tooltip)
            self._tray.refresh_menu()

    def _tray_view(self, status: AppStatus) -> TrayView:
        return tray_view(status, self.services.clock(),
                         hour24=self.services.settings.current().hour24)

    def _window_visibility(self, visible: bool) -> None:
        if self._poller is not None:
            self._poller.set_window_visible(visible)

    def _on_signal(self, signum: int) -> None:
        log.info("signal %d: quitting", signum)
        self.quit(EXIT_INTERRUPTED if signum == signal.SIGINT else EXIT_OK)

    def _on_instance_message(self, message: str) -> None:
        # The single-instance listener thread: hand over to the main thread.
        scheduler = self._scheduler
        if message == "show" and scheduler is not None:
            scheduler.post(self.show_window)

    # ---- helpers ----

    def _config_problem(self) -> str | None:
        settings = self.services.settings
        if not settings.file_is_valid and settings.problems:
            return settings.problems[0]
        return None

    def _report(self, message: str) -> None:
        log.warning("%s", message)
        if self._window is not None:
            self._window.show_note(message)
            self._window.show()
