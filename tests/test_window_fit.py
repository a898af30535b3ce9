"""The Deep Dive always fits: on common laptop and desktop screens, in every state.

Each screen size gets its own Xvfb with a 32-px "panel" at the top: the root window's
`_NET_WORKAREA` says the work area starts below it, as a window manager with a panel would, and
the tray icon sits in the panel at the top right. The window is opened from that icon in every
state (per-model limits and charts on, the tallest case) and measured from the X server: it lies
inside the work area, the footer's Refresh button is fully on screen, the pointer on the icon is
not covered, and the sections scroll (wheel and keys) between the pinned header and footer.
"""

from __future__ import annotations

import subprocess
import tkinter as tk
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.config import Config
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import ExtraUsage, Limit, Usage, Window
from claude_pulse.ui.deep_dive import CARD_WIDTH, DeepDiveWindow
from support.fixtures_display import pump_until, start_display, xdotool
from support.fixtures_display import settle as settle_for
from support.helpers import stop_process

pytestmark = pytest.mark.gui

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
PANEL = 32
SCREENS = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)]


@dataclass(frozen=True)
class Screen:
    display: str
    width: int
    height: int

    @property
    def work_area(self) -> tuple[int, int, int, int]:
        return 0, PANEL, self.width, self.height

    @property
    def icon(self) -> tuple[int, int]:
        return self.width - 20, PANEL // 2


def set_work_area(display: str, box: tuple[int, int, int, int]) -> None:
    """What a window manager with a panel publishes (EWMH `_NET_WORKAREA`, one desktop)."""
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        root = d.screen().root
        x0, y0, x1, y1 = box
        root.change_property(d.intern_atom("_NET_WORKAREA"), Xatom.CARDINAL, 32,
                             [x0, y0, x1 - x0, y1 - y0], X.PropModeReplace)
        d.sync()
    finally:
        d.close()


@pytest.fixture(scope="session")
def servers() -> Iterator[Callable[[tuple[int, int]], Screen]]:
    """One Xvfb per screen size, started on first use and kept for the session: Tk keeps its
    X connection after a root is destroyed, and the process exits if that server goes away."""
    started: dict[tuple[int, int], Screen] = {}
    procs: list[subprocess.Popen[bytes]] = []

    def get(size: tuple[int, int]) -> Screen:
        if size not in started:
            proc, display = start_display(*size)
            procs.append(proc)
            started[size] = Screen(display, *size)
            set_work_area(display, started[size].work_area)
        return started[size]

    try:
        yield get
    finally:
        for proc in procs:
            stop_process(proc)


@pytest.fixture(params=SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def screen(request: pytest.FixtureRequest,
           servers: Callable[[tuple[int, int]], Screen]) -> Screen:
    return servers(request.param)


@pytest.fixture
def display(screen: Screen, monkeypatch: pytest.MonkeyPatch) -> str:
    """This module's display is the screen under test (the shared `root` fixture opens there)."""
    monkeypatch.setenv("DISPLAY", screen.display)
    monkeypatch.setenv("NO_AT_BRIDGE", "1")
    return screen.display


def settle(root: tk.Tk, seconds: float = 0.15) -> None:
    settle_for(root, seconds)


def snapshot(fetched_at: datetime = NOW) -> Snapshot:
    resets_session, resets_week = NOW + timedelta(hours=2), NOW + timedelta(days=3)
    limits = tuple(
        Limit(f"m{i}", "weekly_scoped", f"{name} (weekly)", pct, resets_week)
        for i, (name, pct) in enumerate((("Opus", 81.0), ("Sonnet", 12.0), ("Fable", 44.0))))
    usage = Usage(Window(64.0, resets_session), Window(71.0, resets_week), limits,
                  ExtraUsage(True, 40843.0, 100000.0, 40.0))
    return Snapshot(fetched_at, usage, {})


def history(start: datetime, step: timedelta) -> tuple[tuple[datetime, float], ...]:
    return tuple((start + step * i, 5.0 * i) for i in range(12))


def full(phase: Phase, **kw: object) -> AppStatus:
    """`phase` with numbers, charts for both windows and three model limits."""
    return AppStatus(phase, snapshot(), account="pulse@example.com",
                     session_history=history(NOW - timedelta(hours=2), timedelta(minutes=10)),
                     weekly_history=history(NOW - timedelta(days=3), timedelta(hours=6)),
                     **kw)  # type: ignore[arg-type]


STATES = [
    pytest.param(full(Phase.OK), id="ok-limits-charts"),
    pytest.param(AppStatus(Phase.SIGNED_OUT), id="signed-out"),
    pytest.param(AppStatus(Phase.LOGGING_IN), id="waiting-for-login"),
    pytest.param(AppStatus(Phase.LOGIN_FAILED, message="No answer from the browser"),
                 id="login-failed"),
    pytest.param(AppStatus(Phase.LOADING), id="loading"),
    pytest.param(full(Phase.OFFLINE, next_try=NOW + timedelta(minutes=1)), id="offline"),
    pytest.param(full(Phase.RATE_LIMITED, next_try=NOW + timedelta(minutes=5)),
                 id="rate-limited"),
    pytest.param(full(Phase.REAUTH, message="Your login has expired"), id="log-in-again"),
    pytest.param(full(Phase.SERVER_ERROR, message="The server answered 503 Service Unavailable",
                      next_try=NOW + timedelta(minutes=2)), id="server-error"),
]


def make_window(root: tk.Tk, config: Config, charts: list[bool] | None = None) -> DeepDiveWindow:
    return DeepDiveWindow(root, clock=lambda: NOW, on_refresh=lambda: None,
                          on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                          on_preferences=lambda: None, settings=lambda: config,
                          on_charts_toggled=None if charts is None else charts.append,
                          platform="linux")


def rect(widget: tk.Misc) -> tuple[int, int, int, int]:
    x, y = widget.winfo_rootx(), widget.winfo_rooty()
    return x, y, x + widget.winfo_width(), y + widget.winfo_height()


def inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2]
            and inner[3] <= outer[3])


@pytest.mark.parametrize("status", STATES)
def test_the_window_fits_the_work_area_in_every_state(
    screen: Screen, root: tk.Tk, status: AppStatus
) -> None:
    win = make_window(root, Config(show_opus_tracking=True), charts=[])
    try:
        win.set_status(status)
        win.show(screen.icon)
        settle(root)
        top = win.toplevel
        window = rect(top)
        assert inside(window, screen.work_area), (window, screen.work_area)
        assert top.winfo_width() == CARD_WIDTH  # the footer never widens it (no side bands)
        assert window[1] >= screen.icon[1] + 1  # the icon (in the panel) is not covered
        footer = rect(win._refresh_button)
        assert inside(footer, window) and footer[3] <= screen.height
        assert inside(rect(win._last_refresh), window)
        # The header stays whole; what does not fit scrolls.
        assert win._card.winfo_height() == win._card.winfo_reqheight()
        natural = win._body_height + top.winfo_height() - win._canvas.winfo_height()
        room = screen.height - PANEL - 24
        assert win.scrolls == (natural > room)
        assert win._scrollbar.winfo_ismapped() == win.scrolls
    finally:
        win.destroy()


@pytest.mark.parametrize("screen", SCREENS[:3], indirect=True, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_sections_scroll_by_wheel_and_keys_with_header_and_footer_pinned(
    screen: Screen, root: tk.Tk
) -> None:
    win = make_window(root, Config(show_opus_tracking=True))
    try:
        win.set_status(full(Phase.REAUTH, message="Your login has expired"))
        win.show(screen.icon)
        settle(root)
        assert win.scrolls  # these screens are too short for this state
        canvas, top = win._canvas, win.toplevel
        header, footer = rect(win._card), rect(win._refresh_button)
        frame = top.winfo_id()
        xdotool(screen.display, "windowfocus", "--sync", str(frame))
        middle = rect(canvas)
        xdotool(screen.display, "mousemove", str((middle[0] + middle[2]) // 2),
                str((middle[1] + middle[3]) // 2), "click", "5")
        pump_until(root, lambda: canvas.yview()[0] > 0)
        assert rect(win._card) == header and rect(win._refresh_button) == footer
        top.event_generate("<End>")
        pump_until(root, lambda: canvas.yview()[1] == 1.0)
        top.event_generate("<Home>")
        pump_until(root, lambda: canvas.yview()[0] == 0.0)
        top.event_generate("<Next>")
        pump_until(root, lambda: canvas.yview()[0] > 0)
    finally:
        win.destroy()


@pytest.mark.parametrize("screen", [(1366, 768)], indirect=True, ids=["1366x768"])
def test_charts_collapse_from_the_footer_and_follow_the_setting(
    screen: Screen, root: tk.Tk
) -> None:
    config = Config()
    toggled: list[bool] = []

    def charts(on: bool) -> None:
        nonlocal config
        toggled.append(on)
        config = Config(show_charts=on)  # what services.settings.update does
        win.settings_changed()

    win = DeepDiveWindow(root, clock=lambda: NOW, on_refresh=lambda: None,
                         on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                         settings=lambda: config, on_charts_toggled=charts, platform="linux")
    try:
        win.set_status(full(Phase.OK))
        win.show(screen.icon)
        settle(root)
        link = win._charts_link
        assert link.winfo_ismapped() and link.cget("text") == "Hide charts"
        tall = win._body_height
        x0, y0, x1, y1 = rect(link)
        xdotool(screen.display, "mousemove", str((x0 + x1) // 2), str((y0 + y1) // 2),
                "click", "1")
        pump_until(root, lambda: toggled == [False])
        settle(root)
        assert win._body_height < tall - 80  # two 48-px charts and their gaps are gone
        assert link.cget("text") == "Show charts"
        assert win.view is not None and win.view.session.chart is None
    finally:
        win.destroy()


@pytest.mark.parametrize("screen", [(1280, 720)], indirect=True, ids=["1280x720"])
def test_the_title_bar_and_border_of_a_window_manager_are_counted(
    screen: Screen, root: tk.Tk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows' tool-window caption and a decorating X11 window manager add these; Xvfb has no
    # window manager, so the measurement is what is simulated here.
    monkeypatch.setattr(DeepDiveWindow, "_decorations", lambda _self: (30, 4))
    win = make_window(root, Config(show_opus_tracking=True))
    try:
        win.set_status(full(Phase.REAUTH, message="Your login has expired"))
        win.show(screen.icon)
        settle(root)
        top = win.toplevel
        frame_top, client_h = top.winfo_rooty(), top.winfo_height()
        # The frame (client + 30 above + 4 below) stays inside the work area with its margin.
        assert frame_top >= PANEL + 12
        assert frame_top + 30 + client_h + 4 <= screen.height - 12
        assert win.scrolls
    finally:
        win.destroy()
