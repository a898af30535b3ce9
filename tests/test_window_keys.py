"""The Deep Dive as users expect of a tray popup: keyboard, Refresh now, a tool window, stale.

On Xvfb with real key events (xdotool) where the window manager-less server allows it, else
Tk's own event queue: Tab walks the footer with a visible ring, Enter/Space press, F5 / Ctrl+R
refresh, Ctrl+Q quits, Ctrl+, opens the Preferences, Escape closes. Refresh now sends at most
one request per 30 s (the controller's debounce, shared with the tray menu) and says
"Updating…" then "Updated just now". Stale numbers dim the charts and the pill as well as
the gauge.
"""

from __future__ import annotations

import time
import tkinter as tk
from dataclasses import dataclass, field
from typing import Any

import pytest

from claude_pulse.config import Config
from claude_pulse.core.gauge import GREEN, ORANGE, RED
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.viewmodel import Action, deep_dive_view
from claude_pulse.ui.deep_dive import DeepDiveWindow
from claude_pulse.ui.render.card import render_card
from support.fixtures_display import count_near, pump_until, xdotool
from test_window_fit import NOW, full, settle, snapshot


@dataclass
class Calls:
    refresh: int = 0
    quit: int = 0
    prefs: int = 0
    actions: list[Action] = field(default_factory=list)


def window(root: tk.Tk, calls: Calls, **kw: Any) -> DeepDiveWindow:
    def refresh() -> None:
        calls.refresh += 1

    def quit_() -> None:
        calls.quit += 1

    def prefs() -> None:
        calls.prefs += 1

    return DeepDiveWindow(root, clock=lambda: NOW, on_refresh=refresh,
                          on_alerts_toggled=lambda _on: None, on_action=calls.actions.append,
                          on_preferences=prefs, on_quit=quit_, on_charts_toggled=lambda _s: None,
                          settings=Config, **kw)


def focus(display: str, win: DeepDiveWindow) -> None:
    xdotool(display, "windowfocus", "--sync", str(win.toplevel.winfo_id()))


def key(display: str, win: DeepDiveWindow, *keys: str) -> None:
    for k in keys:
        xdotool(display, "key", "--window", str(win.toplevel.winfo_id()), k)


@pytest.mark.gui
def test_the_keyboard_reaches_everything(display: str, root: tk.Tk) -> None:
    calls = Calls()
    win = window(root, calls, platform="linux")
    try:
        win.set_status(AppStatus(Phase.REAUTH, snapshot()))
        win.show()
        pump_until(root, lambda: win.toplevel.focus_get() is not None)
        focus(display, win)
        settle(root, 0.1)
        # Tab order: the banner's button (drawn in the card), the switch, ⚙, Refresh.
        order = []
        for _ in range(4):
            key(display, win, "Tab")
            settle(root, 0.1)
            order.append(root.focus_get())
        assert order == [win._card, win._toggle, win._gear, win._refresh_button]
        assert int(win._refresh_button.cget("highlightthickness")) >= 2  # the ring shows
        key(display, win, "shift+Tab", "shift+Tab", "shift+Tab")
        settle(root, 0.1)
        assert root.focus_get() is win._card and win.ring_shown
        key(display, win, "Return")
        pump_until(root, lambda: calls.actions == [Action.LOG_IN])
        key(display, win, "ctrl+comma")
        pump_until(root, lambda: calls.prefs == 1)
        key(display, win, "ctrl+q")
        pump_until(root, lambda: calls.quit == 1)
        key(display, win, "F5")
        pump_until(root, lambda: calls.refresh == 1)
        win._refresh_button.focus_set()
        key(display, win, "Escape")
        pump_until(root, lambda: not win.visible)
    finally:
        win.destroy()


@pytest.mark.gui
def test_refresh_now_asks_the_controller_and_shows_its_words(
    display: str, root: tk.Tk
) -> None:
    """The button, F5 and Ctrl+R each ask; the one debounce is the controller's (its own
    tests: tests/test_desktop.py); the button shows the words it is given."""
    calls = Calls()
    win = window(root, calls, platform="linux")
    try:
        win.set_status(full(Phase.OK))
        win.show()
        settle(root, 0.1)
        assert win.refresh_label == "Refresh Claude"
        win._refresh_button.invoke()
        focus(display, win)
        key(display, win, "F5", "ctrl+r")
        pump_until(root, lambda: calls.refresh == 3)
        win.show_refresh("Updating…")
        assert win.refresh_label == "Updating…"
        win.show_refresh("Updated just now")
        assert win.refresh_label == "Updated just now"
        win.show_refresh(None)
        assert win.refresh_label == "Refresh Claude"
    finally:
        win.destroy()


@pytest.mark.gui
def test_the_window_is_a_utility_window_on_x11(display: str, root: tk.Tk) -> None:
    from Xlib import X
    from Xlib import display as xdisplay

    win = window(root, Calls(), platform="linux")
    try:
        win.set_status(full(Phase.OK))
        win.show()
        settle(root, 0.2)
        d = xdisplay.Display(display)
        try:
            # Tk's wrapper window (the client's parent) carries the WM properties.
            inner = d.create_resource_object("window", win.toplevel.winfo_id())
            w = inner.query_tree().parent
            prop = w.get_full_property(d.intern_atom("_NET_WM_WINDOW_TYPE"), X.AnyPropertyType)
            assert prop is not None
            assert d.intern_atom("_NET_WM_WINDOW_TYPE_UTILITY") in list(prop.value)
        finally:
            d.close()
        assert win.toplevel.resizable() == (False, False)  # no maximize
    finally:
        win.destroy()


@pytest.mark.gui
def test_on_windows_it_is_a_tool_window(
    display: str, root: tk.Tk, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Any, ...]] = []
    real = tk.Toplevel.wm_attributes

    def attributes(self: tk.Toplevel, *args: Any, **kw: Any) -> Any:
        if args and args[0] == "-toolwindow":  # Windows only: Tk on X11 refuses it
            seen.append(args)
            return ""
        return real(self, *args, **kw)

    monkeypatch.setattr(tk.Toplevel, "wm_attributes", attributes)
    win = window(root, Calls(), platform="win32")
    try:
        assert seen == [("-toolwindow", True)]  # no taskbar button, no maximize box
    finally:
        win.destroy()


def test_stale_numbers_dim_the_charts_and_the_pill_too() -> None:
    fresh = deep_dive_view(full(Phase.OK), NOW, alerts_enabled=True, show_model_limits=False)
    stale = deep_dive_view(full(Phase.OFFLINE), NOW, alerts_enabled=True,
                           show_model_limits=False)
    assert stale.stale and not fresh.stale
    bright, dim = render_card(fresh), render_card(stale)
    below_gauge = (0, 300, bright.width, bright.height)
    # Orange (usage) is in the fresh charts and bar; none of it stays at full strength.
    assert count_near(bright, ORANGE, below_gauge, 12) > 200
    assert count_near(dim, ORANGE, below_gauge, 12) == 0
    # The pill ("Over budget", red) fades too.
    assert count_near(bright, RED, below_gauge, 12) > 20
    assert count_near(dim, RED, below_gauge, 12) == 0 and count_near(dim, GREEN, below_gauge,
                                                                     12) == 0


@pytest.mark.gui
def test_refresh_clicks_in_the_real_app_send_one_request(
    display: str, in_process_app: Any, in_process_services: Any, pulse_home: Any,
    fake_server: Any,
) -> None:
    """Counted at the fake server: five clicks and presses of F5 within seconds, one request."""
    from support.fixtures_app import Driver
    from support.fixtures_display import click
    from support.fixtures_server import seed_credentials
    from support.helpers import wait_until

    seed_credentials(pulse_home, fake_server)
    app = in_process_app(in_process_services())

    def usage_requests() -> int:
        return len(fake_server.requests_to("usage"))

    def script(d: Driver) -> None:
        wait_until(lambda: d.phase() is Phase.OK, 10, "the first poll")
        d.on_main(lambda: app.controller.show_window())
        before = usage_requests()
        button = d.on_main(lambda: app._window._refresh_button)
        x, y = d.on_main(lambda: (button.winfo_rootx() + button.winfo_width() // 2,
                                  button.winfo_rooty() + button.winfo_height() // 2))
        for _ in range(3):
            click(display, x, y)
        top = d.on_main(lambda: str(app._window.toplevel.winfo_id()))
        xdotool(display, "key", "--window", top, "F5", "ctrl+r")
        wait_until(lambda: d.on_main(lambda: app._window.refresh_label) == "Updated just now",
                   10, "the refreshed numbers")
        click(display, x, y)
        time.sleep(1.0)
        assert usage_requests() == before + 1

    assert Driver(app).run(script) == 0


@pytest.mark.gui
def test_tab_skips_the_scrollbar_when_the_window_scrolls(display: str, root: tk.Tk) -> None:
    calls = Calls()
    win = window(root, calls, platform="linux")
    try:
        win.set_status(full(Phase.REAUTH, message="Your login has expired"))
        win.show((1004, 16))
        settle(root, 0.2)
        win._canvas.configure(height=100)  # as on a short screen
        win._scrollbar.place(relx=1.0, rely=0.0, relheight=1.0, anchor="ne")
        widget: Any = win._card
        seen = []
        for _ in range(6):
            widget = widget.tk_focusNext()
            seen.append(widget)
        assert win._scrollbar not in seen and win._canvas not in seen
    finally:
        win.destroy()
