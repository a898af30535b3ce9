"""The desktop app: the Tk root, the tray icon, the Deep Dive window, wired to the controller.

The decisions live in `desktop.DesktopController` (tested without a display); the parts below
the GUI come from `wiring.Services`. This module builds the widgets, runs the main loop and shuts
everything down.

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
import time
import tkinter as tk
from typing import TYPE_CHECKING, Any

from claude_pulse.desktop import NO_TRAY_HOST, DesktopController
from claude_pulse.errors import PulseError
from claude_pulse.ui.deep_dive import TITLE, DeepDiveWindow
from claude_pulse.ui.tk_scheduler import TkScheduler
from claude_pulse.ui.tray import Tray, build_tk_menu

if TYPE_CHECKING:
    from claude_pulse.core.viewmodel import TrayView
    from claude_pulse.services.poller import Poller
    from claude_pulse.ui.preferences import PreferencesWindow
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
        self._exit_code = EXIT_OK
        self._root: tk.Tk | None = None
        self._scheduler: TkScheduler | None = None
        self._tray: Tray | None = None
        self._menu: tk.Menu | None = None
        self._window: DeepDiveWindow | None = None
        self._poller: Poller | None = None
        self._instance: Any = None
        self._preferences: PreferencesWindow | None = None
        self.controller: DesktopController | None = None

    # ---- lifecycle ----

    def run(self) -> int:
        if self._single_instance and not self._become_the_instance():
            return EXIT_OK
        from claude_pulse.platform.screen import enable_dpi_awareness

        enable_dpi_awareness()  # Windows: before the first window, so Tk sees the real DPI
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
        from claude_pulse.platform.instance import FEED, QUIT, SHOW, SingleInstance

        instance = SingleInstance(self.services.home, self._on_instance_message,
                                  messages=(SHOW, QUIT, FEED))
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
        from claude_pulse.platform.dock import hide_dock_icon
        from claude_pulse.ui.notify import on_notification_click
        from claude_pulse.ui.render.logo import draw_logo

        services = self.services
        self._root = root
        root.withdraw()  # the root is only the anchor for the window and the popup menu
        hide_dock_icon()  # macOS: a menu-bar app; Tk has just made us a Dock app
        root.title(f"{TITLE} (main)")
        scheduler = self._scheduler = TkScheduler(root)
        scheduler.handle_signals(self._on_signal)
        # The config key wins at start-up (it may have been edited by hand).
        sync_autostart(services.settings.current().start_with_windows, services.autostart)

        controller = self.controller = DesktopController(
            settings=services.settings,
            autostart=services.autostart,
            credentials=services.credentials,
            new_login=lambda: services.login_session(timeout=self._login_timeout_s),
            clock=services.clock,
            post=scheduler.post,
            quit=self.quit,
            icon_renderer=_icon_renderer,
            notifier=services.notifier,
            pointer=root.winfo_pointerxy,
            preferences=self.show_preferences,
            claude_code_found=services.claude_code.logged_in,
            call_later=scheduler.call_later,
        )
        # A click on one of our notifications opens the window (notifier thread: hand over).
        on_notification_click(services.notifier,
                              lambda: scheduler.post(controller.show_window))
        self._window = DeepDiveWindow(
            root,
            clock=services.clock,
            on_refresh=controller.refresh_now,
            on_alerts_toggled=controller.set_alerts,
            on_action=controller.banner_action,
            on_visibility=controller.window_visibility,
            on_preferences=controller.open_preferences,
            on_charts_toggled=controller.set_charts,
            on_login_cancel=controller.cancel_login,
            on_login_code=controller.submit_login_code,
            on_quit=self.quit,
            settings=services.settings.current,
            logo=draw_logo(64),
        )
        entries = controller.menu_entries()
        self._menu = build_tk_menu(root, entries, info=controller.menu_lines)
        self._tray = Tray(post=scheduler.post, entries=entries, info=controller.menu_lines,
                          on_activate=controller.toggle_window,
                          on_context_menu=self.popup_menu, on_session_end=self.quit)
        self._poller = services.poller(scheduler=scheduler, post=scheduler.post,
                                       on_status=controller.on_status)
        controller.attach(poller=self._poller, tray=self._tray, window=self._window)

    def _start(self) -> None:
        assert self._tray is not None and self._poller is not None
        assert self.controller is not None
        self._tray.start(self.controller.icon(), self.controller.tray_view().tooltip)
        if self._tray.host_present() is False:
            # One line, where the user is looking (pystray's own tracebacks are silenced).
            if sys.stderr is not None:
                print(f"claude-pulse: {NO_TRAY_HOST}", file=sys.stderr, flush=True)
            self.controller.no_tray_host(self._tray.host_present)
        self._poller.start()
        self.controller.started()
        if self._show_window_at_start and self._window is not None:
            self._window.show()

    def quit(self, code: int = EXIT_OK) -> None:
        """Leave the main loop; `run()` then shuts everything down and returns `code`."""
        self._exit_code = code
        if self._root is not None:
            self._root.quit()

    def _shutdown(self) -> None:
        started = time.monotonic()
        if self._scheduler is not None:
            self._scheduler.close()  # no more posts; signal handling restored
        if self.controller is not None:
            self.controller.detach()  # cancels a login under way
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
        if self._preferences is not None:
            self._preferences.destroy()
        if self._root is not None:
            with contextlib.suppress(tk.TclError):
                self._root.destroy()
        # A worker that outlives us (a stuck fetch) still holds this app through its
        # callbacks; it must not hold Tk objects as well (see TkScheduler.close).
        self._root = self._window = self._menu = self._preferences = None
        # Tk widget trees are reference cycles, freed by the cyclic GC, which runs on whatever
        # thread allocates next; Tcl aborts the process when that is not this one. Collect here.
        gc.collect()
        log.info("stopped in %.2f s", time.monotonic() - started)

    def _release_instance(self) -> None:
        if self._instance is not None:
            with contextlib.suppress(Exception):
                self._instance.release()
            self._instance = None

    # ---- Tk-only parts ----

    def show_preferences(self) -> None:
        """The Preferences window, built on first use (most sessions never open it)."""
        if self._root is None or self.controller is None:
            return
        if self._preferences is None:
            from claude_pulse.ui.preferences import PreferencesWindow

            controller = self.controller
            self._preferences = PreferencesWindow(
                self._root, settings=self.services.settings.current,
                on_save=lambda changes: controller.change_settings(**changes))
        self.services.settings.check()  # show a hand edit made since
        self._preferences.show()

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

    def _on_signal(self, signum: int) -> None:
        log.info("signal %d: quitting", signum)
        self.quit(EXIT_INTERRUPTED if signum == signal.SIGINT else EXIT_OK)

    def _on_instance_message(self, message: str) -> None:
        # The single-instance listener thread: hand over to the main thread.
        scheduler, controller = self._scheduler, self.controller
        if scheduler is None or controller is None:
            return
        if message == "show":
            scheduler.post(controller.show_window)
        elif message == "quit":  # `claude-pulse uninstall` is about to remove our files
            scheduler.post(self.quit)
        elif message == "feed" and self._poller is not None:  # statusline saved new numbers
            scheduler.post(self._poller.feed_updated)


def _icon_renderer(view: TrayView) -> Any:
    from claude_pulse.ui.render.tray import render_tray_icon

    return lambda size: render_tray_icon(view, size)
