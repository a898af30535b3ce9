"""The Deep Dive window on a real X display, checked by its pixels and by clicking it.

The card is captured with ImageMagick's `import -window` and measured: the orange arc covers the
usage share of its ring, the blue marker sits at the elapsed share of the pace bar, the pill is
red when over budget and green when on track. Every state has a face; the banner's button, the
footer's toggle and button, Escape and focus loss do what they say; the window redraws only when
its view changes and runs a timer only while visible. `place_window` is pure and table-tested.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from claude_pulse.core.gauge import BLUE, GREEN, ORANGE, RED, TRACK, marker_x
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import parse_usage
from claude_pulse.core.viewmodel import LOGIN_CHOICE, Action
from claude_pulse.ui.deep_dive import (
    CARD_WIDTH,
    TITLE,
    DeepDiveWindow,
    Placement,
    place_window,
    usable_area,
)
from support.fixtures_display import (
    arc_coverage,
    click,
    count_near,
    grab,
    near,
    pump_until,
    settle,
    xdotool,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def snapshot(session: float | None, weekly: float | None, *, session_elapsed: float = 0.6,
             week_elapsed: float = 0.5, fetched_at: datetime = NOW) -> Snapshot:
    raw: dict[str, Any] = {
        "five_hour": None if session is None else {
            "utilization": session,
            "resets_at": (NOW + timedelta(hours=5) * (1 - session_elapsed)).isoformat()},
        "seven_day": None if weekly is None else {
            "utilization": weekly,
            "resets_at": (NOW + timedelta(days=7) * (1 - week_elapsed)).isoformat()},
    }
    return Snapshot(fetched_at, parse_usage(raw), raw)


def ok(session: float, weekly: float, **kw: Any) -> AppStatus:
    return AppStatus(Phase.OK, snapshot(session, weekly, **kw), account="pulse@example.com")


# ---- place_window (no display) ----------------------------------------------------------------


SCREENS = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)]


@pytest.mark.parametrize(
    ("anchor", "platform", "area", "expected"),
    [
        # trayer-like panel 32 px at the top; the icon at the top right.
        pytest.param((1011, 16), "linux", (0, 32, 1024, 768), Placement(652, 44, 500),
                     id="x11-tray-top-right-opens-below"),
        pytest.param((1000, 750), "win32", (0, 0, 1024, 720), Placement(652, 208, 500),
                     id="taskbar-bottom-opens-above"),
        pytest.param((400, 16), "linux", (0, 32, 1024, 768), Placement(220, 44, 500),
                     id="centred-under-the-pointer"),
        pytest.param((10, 16), "linux", (0, 32, 1024, 768), Placement(12, 44, 500),
                     id="clamped-left"),
        pytest.param(None, "linux", (0, 28, 1024, 768), Placement(652, 40, 500),
                     id="x11-no-anchor-top-right"),
        pytest.param(None, "win32", (0, 0, 1024, 720), Placement(652, 208, 500),
                     id="windows-above-taskbar"),
    ],
)
def test_place_window_keeps_the_window_next_to_the_tray_and_in_the_work_area(
    anchor: tuple[int, int] | None, platform: str, area: tuple[int, int, int, int],
    expected: Placement,
) -> None:
    assert place_window(360, 500, area, anchor, platform) == expected


def test_the_guessed_area_keeps_clear_of_a_top_bar_or_the_taskbar() -> None:
    assert usable_area(1024, 768, None, "linux") == (0, 28, 1024, 768)
    assert usable_area(1024, 768, None, "win32") == (0, 0, 1024, 720)
    assert usable_area(1024, 768, (0, 32, 1024, 768), "win32") == (0, 32, 1024, 768)


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("height", [300, 687, 863, 2000])
@pytest.mark.parametrize("panel", ["top", "bottom"])
def test_a_window_of_any_height_fits_the_work_area_and_never_covers_the_icon(
    screen: tuple[int, int], height: int, panel: str
) -> None:
    w, h = screen
    area = (0, 32, w, h) if panel == "top" else (0, 0, w, h - 40)
    icon = (w - 20, 16) if panel == "top" else (w - 60, h - 20)
    for platform in ("linux", "win32"):
        for anchor in (icon, None):
            place = place_window(360, height, area, anchor, platform)
            assert area[0] + 12 <= place.x and place.x + 360 <= area[2] - 12
            assert area[1] + 12 <= place.y and place.y + place.height <= area[3] - 12
            # All of it when it fits; else nearly all the work area (the body scrolls).
            room = area[3] - area[1] - 24
            assert place.height == height if height <= room - 24 else place.height >= room - 24
            # The pointer on the icon stays outside the window (it is in the panel).
            assert not (place.y <= icon[1] < place.y + place.height)


def test_an_icon_inside_the_work_area_is_not_covered_either() -> None:
    # No panel reserves space (a WM without struts): the window opens below the pointer.
    place = place_window(360, 2000, (0, 0, 1366, 768), (1340, 10), "linux")
    assert place.y >= 10 + 24 and place.y + place.height <= 768 - 12
    place = place_window(360, 2000, (0, 0, 1366, 768), (1340, 760), "linux")
    assert place.y + place.height <= 760 - 24 and place.y >= 12


# ---- the window on Xvfb -------------------------------------------------------------------


@dataclass
class Calls:
    refresh: int = 0
    alerts: list[bool] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    visibility: list[bool] = field(default_factory=list)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def window(root: tk.Tk, calls: Calls) -> Iterator[DeepDiveWindow]:
    def refresh() -> None:
        calls.refresh += 1

    win = DeepDiveWindow(
        root, clock=lambda: NOW, on_refresh=refresh, on_alerts_toggled=calls.alerts.append,
        on_action=calls.actions.append, on_visibility=calls.visibility.append,
        platform="linux",
    )
    try:
        yield win
    finally:
        win.destroy()


def capture(display: str, root: tk.Tk, win: DeepDiveWindow, path: Path) -> Image.Image:
    settle(root)
    frame = int(win.toplevel.wm_frame(), 16)
    return grab(display, path, frame)


@dataclass(frozen=True)
class PaceBar:
    x0: int
    x1: int
    top: int
    bottom: int
    marker: float


def pace_bar(card: Image.Image) -> PaceBar:
    """Find the pace bar (rows full of track or orange) and the blue marker on it."""
    px = card.load()
    rows = [y for y in range(card.height // 2, card.height)
            if sum(1 for x in range(card.width) if near(px[x, y], TRACK, 6)
                   or near(px[x, y], ORANGE, 20)) > card.width // 2]
    assert rows, "no pace bar found"
    mid = rows[len(rows) // 2]
    bar = [x for x in range(card.width)
           if any(near(px[x, mid], c, t) for c, t in ((TRACK, 6), (ORANGE, 20), (BLUE, 60)))]
    blue = [x for y in rows for x in range(card.width) if near(px[x, y], BLUE, 40)]
    assert blue, "no elapsed marker on the bar"
    return PaceBar(min(bar), max(bar), rows[0], rows[-1], sum(blue) / len(blue))


@pytest.mark.gui
@pytest.mark.parametrize(
    ("session", "weekly", "week_elapsed", "pill"),
    [
        pytest.param(80.0, 30.0, 0.55, GREEN, id="80pct-on-track"),
        pytest.param(95.0, 68.0, 0.30, RED, id="95pct-over-budget"),
        pytest.param(76.0, 50.0, 0.90, GREEN, id="76pct-late-in-week"),
    ],
)
def test_the_card_shows_the_numbers(
    display: str, root: tk.Tk, window: DeepDiveWindow, tmp_path: Path,
    session: float, weekly: float, week_elapsed: float, pill: tuple[int, int, int],
) -> None:
    window.set_status(ok(session, weekly, week_elapsed=week_elapsed))
    window.show()
    card = capture(display, root, window, tmp_path / f"card-{session:.0f}.png")

    assert abs(arc_coverage(card, ORANGE) - session / 100) < 0.03
    bar = pace_bar(card)
    expected = marker_x(week_elapsed * 100, bar.x0, bar.x1)
    assert abs(bar.marker - expected) <= 3, (bar, expected)
    pill_area = (card.width // 2, bar.top - 60, card.width, bar.top - 10)
    other = RED if pill == GREEN else GREEN
    assert count_near(card, pill, pill_area) > 20
    assert count_near(card, other, pill_area) == 0


@pytest.mark.gui
def test_over_100_percent_adds_a_red_second_lap(
    display: str, root: tk.Tk, window: DeepDiveWindow, tmp_path: Path
) -> None:
    window.set_status(ok(104.0, 40.0))
    window.show()
    card = capture(display, root, window, tmp_path / "over.png")
    gauge = (40, 60, card.width - 40, 340)
    assert count_near(card, RED, gauge) > 30  # the lap beyond 100 %
    assert window.view is not None and window.view.session.percent_text == "104%"


FACES = [
    pytest.param(AppStatus(Phase.SIGNED_OUT), Action.LOG_IN, id="signed-out"),
    pytest.param(AppStatus(Phase.LOGGING_IN), None, id="waiting-for-login"),
    pytest.param(AppStatus(Phase.LOGIN_FAILED, message="No answer from the browser"),
                 Action.RETRY, id="login-failed"),
    pytest.param(AppStatus(Phase.LOADING), None, id="loading"),
    pytest.param(AppStatus(Phase.OFFLINE, snapshot(40, 30, fetched_at=NOW - timedelta(minutes=12)),
                           next_try=NOW + timedelta(minutes=1)), None, id="offline-stale"),
    pytest.param(AppStatus(Phase.RATE_LIMITED, snapshot(40, 30, fetched_at=NOW - timedelta(
        minutes=7)), next_try=NOW + timedelta(minutes=5)), None, id="rate-limited"),
    pytest.param(AppStatus(Phase.REAUTH, message="Your login has expired"), Action.LOG_IN,
                 id="log-in-again"),
    pytest.param(AppStatus(Phase.SERVER_ERROR, snapshot(40, 30), message="HTTP 503"), None,
                 id="server-error"),
]


@pytest.mark.gui
@pytest.mark.parametrize(("status", "action"), FACES)
def test_every_state_has_a_face(
    display: str, root: tk.Tk, window: DeepDiveWindow, tmp_path: Path,
    status: AppStatus, action: Action | None,
) -> None:
    window.set_status(ok(40, 30))
    window.show()
    healthy = capture(display, root, window, tmp_path / "ok.png")
    window.set_status(status)
    face = capture(display, root, window, tmp_path / "face.png")
    assert window.view is not None and window.view.banner is not None
    assert face.tobytes() != healthy.tobytes()
    assert (window.action_box is not None) == (action is not None)


@pytest.mark.gui
def test_the_banner_button_runs_its_action(
    display: str, root: tk.Tk, window: DeepDiveWindow, calls: Calls
) -> None:
    window.set_status(AppStatus(Phase.LOGIN_FAILED, message="Timed out"))
    window.show()
    settle(root)
    box = window.action_box
    assert box is not None
    top = window.toplevel
    click(display, top.winfo_rootx() + (box[0] + box[2]) // 2,
          top.winfo_rooty() + (box[1] + box[3]) // 2)
    pump_until(root, lambda: calls.actions == [Action.RETRY])


@pytest.mark.gui
def test_the_first_run_choice_offers_both_logins_and_clicks_run_them(
    display: str, root: tk.Tk, window: DeepDiveWindow, calls: Calls, tmp_path: Path
) -> None:
    window.set_status(AppStatus(Phase.SIGNED_OUT))
    window.show()
    settle(root)
    plain_height = window.toplevel.winfo_height()
    window.offer_login_choice(LOGIN_CHOICE)
    settle(root)
    buttons = window.login_choice_buttons
    assert [b.cget("text") for b in buttons] == ["Log in with your browser",
                                                 "Use Claude Code's login (read-only)"]
    sentences = [w.cget("text") for w in buttons[0].master.winfo_children()
                 if isinstance(w, tk.Label)]
    assert sentences == [o.sentence for o in LOGIN_CHOICE]
    top = window.toplevel
    assert top.winfo_height() > plain_height
    # Right under the banner, and every line inside the card's width.
    assert buttons[0].winfo_rooty() < window._body.winfo_rooty()
    for b in buttons:
        assert b.winfo_ismapped()
        assert b.winfo_rootx() + b.winfo_width() <= top.winfo_rootx() + CARD_WIDTH
    capture(display, root, window, tmp_path / "first-run-choice.png")
    for b in reversed(buttons):
        click(display, b.winfo_rootx() + b.winfo_width() // 2,
              b.winfo_rooty() + b.winfo_height() // 2)
        settle(root, 0.2)
    pump_until(root, lambda: calls.actions == [Action.USE_CLAUDE_CODE, Action.LOG_IN])
    window.offer_login_choice(())
    settle(root)
    assert window.login_choice_buttons == []
    assert top.winfo_height() == plain_height


@pytest.mark.gui
def test_footer_toggle_and_refresh_button(
    display: str, root: tk.Tk, window: DeepDiveWindow, calls: Calls
) -> None:
    window.set_status(ok(40, 30))
    window.show()
    settle(root)
    for widget in (window._refresh_button, window._toggle):
        click(display, widget.winfo_rootx() + widget.winfo_width() // 2,
              widget.winfo_rooty() + widget.winfo_height() // 2)
        settle(root, 0.2)
    pump_until(root, lambda: calls.refresh == 1 and calls.alerts == [False])
    assert window._last_refresh.cget("text") == "From Anthropic · just now"


@pytest.mark.gui
def test_escape_hides_and_reports_visibility(
    display: str, root: tk.Tk, window: DeepDiveWindow, calls: Calls
) -> None:
    window.set_status(ok(40, 30))
    window.show()
    settle(root)
    frame = int(window.toplevel.wm_frame(), 16)
    xdotool(display, "windowfocus", "--sync", str(frame))
    xdotool(display, "key", "--window", str(frame), "Escape")
    pump_until(root, lambda: not window.visible)
    assert calls.visibility == [True, False]
    assert window.toplevel.winfo_ismapped() == 0


@pytest.mark.gui
def test_escape_while_log_out_is_asked_is_cancel(
    display: str, root: tk.Tk, window: DeepDiveWindow, calls: Calls
) -> None:
    answers: list[bool] = []
    window.set_status(ok(40, 30))
    window.ask_log_out(answers.append)
    window.show()
    settle(root)
    assert window.asks_log_out and root.focus_get() is window.log_out_buttons[0]
    frame = int(window.toplevel.wm_frame(), 16)
    xdotool(display, "windowfocus", "--sync", str(frame))
    xdotool(display, "key", "--window", str(frame), "Escape")
    pump_until(root, lambda: not window.visible)
    assert answers == [False] and not window.asks_log_out


@pytest.mark.gui
def test_losing_the_focus_to_another_client_hides_the_window(
    display: str, root: tk.Tk, window: DeepDiveWindow
) -> None:
    from Xlib import X
    from Xlib import display as xdisplay

    window.set_status(ok(40, 30))
    window.show()
    pump_until(root, lambda: window._had_focus)
    other = xdisplay.Display(display)
    try:
        # Another client takes the focus, as clicking another application's window would.
        screen = other.screen()
        w = screen.root.create_window(0, 0, 50, 50, 0, screen.root_depth)
        w.map()
        other.sync()
        time.sleep(0.1)
        w.set_input_focus(X.RevertToParent, X.CurrentTime)
        other.sync()
        pump_until(root, lambda: not window.visible)
        w.destroy()
        other.sync()
    finally:
        other.close()


@pytest.mark.gui
def test_redraws_only_on_change_and_ticks_only_while_visible(
    root: tk.Tk, window: DeepDiveWindow
) -> None:
    def timers() -> tuple[str, ...]:
        return tuple(root.tk.splitlist(root.tk.call("after", "info")))

    status = ok(40, 30)
    window.set_status(status)
    assert window.renders == 0  # hidden: nothing drawn
    assert timers() == ()
    window.show()
    settle(root)
    assert window.renders == 1
    window.set_status(status)
    window.set_status(ok(40, 30))  # equal value, equal view
    assert window.renders == 1
    window.set_status(ok(41, 30))
    assert window.renders == 2
    assert len(timers()) == 1  # the once-a-minute countdown
    window.hide()
    assert timers() == ()


@pytest.mark.gui
def test_a_hidden_window_keeps_no_card_images_and_draws_again_when_shown(
    root: tk.Tk, window: DeepDiveWindow
) -> None:
    # Issue 19: the card's photo images are its biggest allocation; hidden, it holds none.
    def images() -> set[str]:
        return set(root.tk.splitlist(root.tk.call("image", "names")))

    before = images()  # the switch and icon images, made once
    window.set_status(ok(40, 30))
    window.show()
    settle(root)
    assert len(images() - before) == 2  # the pinned header and the scrolling sections
    window.hide()
    assert images() == before
    window.show()
    settle(root)
    assert window.renders == 2 and len(images() - before) == 2
    assert window.view is not None and window.view.session.percent_text == "40%"


@pytest.mark.gui
def test_notes_and_problems_are_shown_and_notes_clear_on_the_next_status(
    root: tk.Tk, window: DeepDiveWindow
) -> None:
    window.set_status(ok(40, 30))
    window.set_problem("config.json cannot be read; using defaults")
    window.show()
    window.show_note("Rate-limited; next try at 12:05")
    settle(root, 0.1)
    assert window._note_label.winfo_ismapped()
    assert "config.json" in window._note_label.cget("text")
    assert "next try" in window._note_label.cget("text")
    window.set_status(ok(41, 30))
    settle(root, 0.1)
    assert "next try" not in window._note_label.cget("text")
    window.set_problem(None)
    settle(root, 0.1)
    assert not window._note_label.winfo_ismapped()


@pytest.mark.gui
def test_the_window_is_the_card_width_and_titled(root: tk.Tk, window: DeepDiveWindow) -> None:
    window.set_status(ok(40, 30))
    window.show()
    settle(root)
    assert window.toplevel.title() == TITLE
    assert window.toplevel.winfo_width() == CARD_WIDTH


@pytest.mark.gui
def test_the_gear_opens_the_preferences(display: str, root: tk.Tk) -> None:
    opened: list[bool] = []
    win = DeepDiveWindow(root, clock=lambda: NOW, on_refresh=lambda: None,
                         on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                         on_preferences=lambda: opened.append(True), platform="linux")
    try:
        win.set_status(ok(40, 30))
        win.show()
        settle(root)
        gear = win._gear
        assert gear is not None and gear.winfo_ismapped()
        click(display, gear.winfo_rootx() + gear.winfo_width() // 2,
              gear.winfo_rooty() + gear.winfo_height() // 2)
        pump_until(root, lambda: opened == [True])
    finally:
        win.destroy()


@pytest.mark.gui
def test_shortened_text_is_shown_whole_on_hover(display: str, root: tk.Tk) -> None:
    from claude_pulse.config import Config
    from claude_pulse.core.usage import Limit

    account = "a.very.long.address.for.a.claude.account@subdomain.example.com"
    label = "Claude Opus 5 Extended Thinking Research Preview (weekly)"
    snap = snapshot(40, 30)
    usage = snap.usage
    snap = Snapshot(snap.fetched_at, type(usage)(usage.session, usage.weekly, (
        Limit("x", "weekly_scoped", label, 50.0, None),), None), {})
    win = DeepDiveWindow(root, clock=lambda: NOW, on_refresh=lambda: None,
                         on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                         settings=lambda: Config(show_opus_tracking=True), platform="linux")
    try:
        win.set_status(AppStatus(Phase.OK, snap, account=account))
        win.show()
        settle(root)
        tips = dict((text, box) for box, text in win._tips)
        assert set(tips) == {account, label}
        x0, y0, x1, y1 = tips[account]
        top = win.toplevel
        xdotool(display, "mousemove", str(top.winfo_rootx() + (x0 + x1) // 2),
                str(top.winfo_rooty() + (y0 + y1) // 2))
        pump_until(root, lambda: win._header_tips.shown == account)
        x0, y0, x1, y1 = tips[label]
        canvas = win._canvas
        y = y0 - win._split - round(canvas.canvasy(0))
        xdotool(display, "mousemove", str(canvas.winfo_rootx() + (x0 + x1) // 2),
                str(canvas.winfo_rooty() + y + 5))
        pump_until(root, lambda: win._body_tips.shown == label)
        assert win._header_tips.shown is None
    finally:
        win.destroy()


def test_long_messages_wrap_at_words_and_are_never_cut() -> None:
    from claude_pulse.ui.render.fonts import font
    from claude_pulse.ui.render.shapes import truncate, wrap

    text = ("Anthropic's servers are having trouble. The problem is on their side. Showing "
            "numbers from 12 min ago. Trying again at 14:05.")
    lines = wrap(text, font(11), 200)
    assert " ".join(lines) == text  # every word kept, none split
    assert truncate("Showing numbers from twelve minutes ago", font(11), 150).endswith(
        ("numbers…", "from…", "twelve…"))
