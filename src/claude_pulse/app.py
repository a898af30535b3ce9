"""The desktop app: the tray icon, and Tk for the Deep Dive window and the popup menu, wired to
the controller.

The decisions live in `desktop.DesktopController` (tested without a display); the parts below
the GUI come from `wiring.Services`. This module builds the widgets, runs the main loop and shuts
everything down.

Threads (design.md §4):

* main — the main loop: `ui.main_loop.MainLoop` until Tk is first needed, then Tk's
  `mainloop()`. Owns every widget, the poller's state and all decisions.
* pulse-tray — pystray's `Icon.run()`; its callbacks only `post()` work to the main thread.
* pulse-fetch — the poller's network worker; results come back through `post()`.
* pulse-login — a browser login (`LoginSession.run()`), while one is under way.
* the notifier's asyncio thread and the single-instance listener, both idle in blocking calls.

Tk is built lazily (issue 19: Tk, its root and the window are ~13 MB of an idle tray that
nobody looks at): the first time the Deep Dive window opens, or the xorg tray's right-click menu
(a Tk menu). Until then `MainLoop` runs the timers and posts; it then hands everything over to
a `TkScheduler` and the app enters Tk's loop for good. macOS builds Tk at once: the icon lives in
Tk's Cocoa loop there.

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
from typing import TYPE_CHECKING, Any

from claude_pulse.desktop import NO_TRAY_HOST, DesktopController
from claude_pulse.errors import PulseError
from claude_pulse.ui.main_loop import MainLoop
from claude_pulse.ui.tray import Tray

if TYPE_CHECKING:
    import tkinter as tk
    from collections.abc import Callable, Sequence

    from claude_pulse.core.status import AppStatus
    from claude_pulse.core.viewmodel import LoginOption, TrayView
    from claude_pulse.desktop import WindowControl
    from claude_pulse.services.poller import Poller
    from claude_pulse.ui.deep_dive import DeepDiveWindow
    from claude_pulse.ui.preferences import PreferencesWindow
    from claude_pulse.ui.tray import MenuEntry
    from claude_pulse.wiring import Services

__all__ = ["DesktopApp", "LazyWindow"]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INTERRUPTED = 130


class DesktopApp:
    """The tray app. `run()` blocks on the main loop and returns the exit code."""

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
        self._quitting = False
        self._root: tk.Tk | None = None
        self._scheduler: MainLoop | None = None
        self._tray: Tray | None = None
        self._menu: tk.Menu | None = None  # xorg's popup menu, built on the first right click
        self._entries: list[MenuEntry] = []
        self._window: LazyWindow | None = None
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
        _require_tk()
        loop = self._scheduler = MainLoop()
        try:
            loop.handle_signals(self._on_signal)
            if sys.platform == "darwin":
                self.tk_root()  # the icon attaches to Tk's Cocoa loop (ui/tray.py)
            self._build(loop)
            self._start()
            loop.run()  # until Quit, or until Tk is needed (then Tk's loop, for good)
            if self._root is not None and not self._quitting:
                self._root.mainloop()
        finally:
            self._shutdown()
        return self._exit_code

    def tk_root(self) -> tk.Tk:
        """Tk, built on first need (main thread): the main loop moves over to Tk's."""
        if self._root is None:
            import tkinter as tk

            from claude_pulse.platform.console import route_tk_errors
            from claude_pulse.platform.dock import hide_dock_icon
            from claude_pulse.ui.deep_dive import TITLE
            from claude_pulse.ui.tk_scheduler import TkScheduler

            assert self._scheduler is not None
            route_tk_errors()  # Tk's callback errors to the log (stderr may be None)
            try:
                root = tk.Tk(className="claude-pulse")
            except tk.TclError as exc:
                raise PulseError(f"cannot open the desktop display: {exc}") from exc
            root.withdraw()  # the root is only the anchor for the window and the popup menu
            hide_dock_icon()  # macOS: a menu-bar app; Tk has just made us a Dock app
            root.title(f"{TITLE} (main)")
            self._root = root
            self._scheduler.hand_over(TkScheduler(root))
            log.debug("Tk started")
        return self._root

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

    def _build(self, scheduler: MainLoop) -> None:
        from claude_pulse.platform.autostart import sync_autostart
        from claude_pulse.ui.notify import on_notification_click

        services = self.services
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
            pointer=lambda: self.tk_root().winfo_pointerxy(),
            preferences=self.show_preferences,
            claude_code_found=services.claude_code.logged_in,
            call_later=scheduler.call_later,
        )
        # A click on one of our notifications opens the window (notifier thread: hand over).
        on_notification_click(services.notifier,
                              lambda: scheduler.post(controller.show_window))
        self._window = LazyWindow(self._deep_dive)
        entries = self._entries = controller.menu_entries()
        self._tray = Tray(post=scheduler.post, entries=entries, info=controller.menu_lines,
                          on_activate=controller.toggle_window,
                          on_context_menu=self.popup_menu, on_session_end=self.quit)
        self._poller = services.poller(scheduler=scheduler, post=scheduler.post,
                                       on_status=controller.on_status)
        controller.attach(poller=self._poller, tray=self._tray, window=self._window)

    def _deep_dive(self) -> DeepDiveWindow:
        """The Deep Dive window (LazyWindow builds it on first need)."""
        from claude_pulse.ui.deep_dive import DeepDiveWindow
        from claude_pulse.ui.render.logo import draw_logo

        controller, services = self.controller, self.services
        assert controller is not None
        return DeepDiveWindow(
            self.tk_root(),
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

    def _start(self) -> None:
        assert self._tray is not None and self._poller is not None
        assert self.controller is not None
        try:
            self._tray.start(self.controller.icon(), self.controller.tray_view().tooltip)
        except Exception as exc:
            # No Tk has looked at the display yet: pystray is the first (no DISPLAY, X gone).
            raise PulseError(f"cannot open the desktop display: {exc}") from exc
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
        self._quitting = True  # a quit before Tk's mainloop starts must still count
        if self._scheduler is not None:
            self._scheduler.stop()
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
            import tkinter as tk

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
        if self.controller is None:
            return
        if self._preferences is None:
            from claude_pulse.ui.preferences import PreferencesWindow

            controller = self.controller
            self._preferences = PreferencesWindow(
                self.tk_root(), settings=self.services.settings.current,
                on_save=lambda changes: controller.change_settings(**changes))
        self.services.settings.check()  # show a hand edit made since
        self._preferences.show()

    def popup_menu(self, x: int, top: int, bottom: int) -> None:
        """xorg: show the Tk menu under the tray icon (above it when the tray is low)."""
        if self.controller is None:
            return
        root = self.tk_root()
        if self._menu is None:
            from claude_pulse.ui.tray import build_tk_menu

            self._menu = build_tk_menu(root, self._entries, info=self.controller.menu_lines)
        menu = self._menu
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


# ---- the Deep Dive window, built the first time it is needed ----
#
# Most tray sessions never open the window, and building it costs Tk itself (a root, fonts,
# images: ~13 MB with the library, docs/performance.md). `LazyWindow` is what the controller
# talks to (`desktop.WindowControl`): until the window exists it only remembers what the window
# would show — the last status, the problem line, a note, Refresh's words, the login choice,
# `keep_open` — and hands all of it to the window when `build()` makes it (on `show()`, a login
# panel or a "Switch?" question).

_OWN = frozenset({"_build", "_window", "_keep_open", "_status", "_problem", "_note", "_refresh",
                  "_choice"})


class LazyWindow:
    """A `WindowControl` whose window is made by `build()` on first need. UI thread only."""

    def __init__(self, build: Callable[[], WindowControl]) -> None:
        self._build = build
        self._window: WindowControl | None = None
        self._keep_open = False
        self._status: AppStatus | None = None
        self._problem: str | None = None
        self._note: str | None = None
        self._refresh: str | None = None
        self._choice: tuple[LoginOption, ...] = ()

    @property
    def built(self) -> WindowControl | None:
        """The window, once it exists."""
        return self._window

    def window(self) -> WindowControl:
        """The window, built now if it was not yet (with everything it was told so far)."""
        if self._window is None:
            window = self._build()
            window.keep_open = self._keep_open
            if self._problem is not None:
                window.set_problem(self._problem)
            if self._status is not None:
                window.set_status(self._status)
            if self._choice:
                window.offer_login_choice(self._choice)
            if self._note is not None:
                window.show_note(self._note)
            if self._refresh is not None:
                window.show_refresh(self._refresh)
            self._window = window
        return self._window

    # ---- WindowControl ----

    @property
    def visible(self) -> bool:
        return self._window is not None and self._window.visible

    @property
    def keep_open(self) -> bool:
        return self._window.keep_open if self._window is not None else self._keep_open

    @keep_open.setter
    def keep_open(self, value: bool) -> None:
        self._keep_open = value
        if self._window is not None:
            self._window.keep_open = value

    def show(self, anchor: tuple[int, int] | None = None) -> None:
        self.window().show(anchor)

    def hide(self) -> None:
        if self._window is not None:
            self._window.hide()

    def set_status(self, status: AppStatus) -> None:
        if self._window is not None:
            self._window.set_status(status)
        else:
            self._status = status
            self._note = None  # as the window does: a note belongs to the state it answered

    def settings_changed(self) -> None:
        if self._window is not None:  # a window built later reads the settings then
            self._window.settings_changed()

    def set_problem(self, text: str | None) -> None:
        if self._window is not None:
            self._window.set_problem(text)
        else:
            self._problem = text

    def show_note(self, text: str) -> None:
        if self._window is not None:
            self._window.show_note(text)
        else:
            self._note = text

    def show_refresh(self, text: str | None) -> None:
        if self._window is not None:
            self._window.show_refresh(text)
        else:
            self._refresh = text

    def offer_login_choice(self, options: Sequence[LoginOption]) -> None:
        if self._window is not None:
            self._window.offer_login_choice(options)
        else:
            self._choice = tuple(options)

    def show_login(self, url: str | None, browser_started: bool | None) -> None:
        self.window().show_login(url, browser_started)

    def ask_switch(self, saved: str, new: str, answer: Callable[[bool], None]) -> None:
        self.window().ask_switch(saved, new, answer)

    def ask_log_out(self, answer: Callable[[bool], None]) -> None:
        self.window().ask_log_out(answer)

    def destroy(self) -> None:
        destroy = getattr(self._window, "destroy", None)
        if callable(destroy):
            destroy()
        self._window = None

    def __getattr__(self, name: str) -> Any:
        # The real window's own properties (view, toplevel, action_box…: tests, benches).
        if name.startswith("__") or name in _OWN:
            raise AttributeError(name)  # not set up yet (no recursion through `_window`)
        return getattr(self.window(), name)


def _require_tk() -> None:
    """A Python without Tk fails at start, as it always did, not at the first click: asked
    without importing Tk (that waits for the window)."""
    from importlib.util import find_spec

    if find_spec("tkinter") is None or find_spec("_tkinter") is None:
        import tkinter  # noqa: F401  # raises the ImportError that says what is missing


def _icon_renderer(view: TrayView) -> Any:
    from claude_pulse.ui.render.tray import render_tray_icon

    return lambda size: render_tray_icon(view, size)
