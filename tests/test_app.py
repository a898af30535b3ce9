"""The desktop app on a real X display: its threading (TkScheduler) and the app as a process.

Part 1 drives `TkScheduler` with a real Tk root on Xvfb: timers, posts from other threads
(both wake paths: the POSIX socket and Windows' event_generate), signals, no idle timers.

Part 2 runs `python -m claude_pulse` as a real process against the fake Anthropic server, with
trayer as the tray host: the icon docks and changes when the server's numbers change, the xorg
right-click menu works (Refresh now, Quit), left click opens the Deep Dive window, SIGTERM ends
it cleanly, a second launch hands over to the first, a first run logs in through the browser,
and no process is left behind.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tkinter as tk
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.core.gauge import GREEN, ORANGE, RED
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.usage import parse_usage
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.services.snapshot import SnapshotStore
from claude_pulse.ui.tk_scheduler import TkScheduler
from support.fakes import claude_code_stdin
from support.fixtures_app import Driver
from support.fixtures_dbus import NotificationDaemon
from support.fixtures_display import (
    DockedIcon,
    arc_coverage,
    click,
    count_near,
    docked_icons,
    find_windows,
    finish,
    grab,
    icon_pixels,
    near,
    processes_with_env,
    rgb_pixels,
    spawn_pulse,
    terminate,
    wait_for_no_window,
    wait_for_window,
    xdotool,
)
from support.fixtures_server import seed_credentials
from support.helpers import wait_until

WINDOW = "^Claude Pulse$"
MENU = "^!menu$"  # Tk names the popup menu's window after its path

# ---------------------------------------------------------------------------------------------
# Part 1: TkScheduler with a real Tk root
# ---------------------------------------------------------------------------------------------


def run_loop(root: tk.Tk, timeout_s: float = 5.0) -> bool:
    """Run the main loop until something calls root.quit(); False if the guard timer fired."""
    timed_out: list[bool] = []
    guard = root.after(int(timeout_s * 1000), lambda: (timed_out.append(True), root.quit()))
    root.mainloop()
    root.after_cancel(guard)
    return not timed_out


def pending_timers(root: tk.Tk) -> tuple[str, ...]:
    return tuple(root.tk.splitlist(root.tk.call("after", "info")))


WAKE_PATHS = [pytest.param(True, id="posix-socket"), pytest.param(False, id="event-generate")]


@pytest.mark.gui
def test_call_later_runs_on_the_main_thread_in_order(root: tk.Tk) -> None:
    sched = TkScheduler(root)
    seen: list[tuple[str, bool]] = []
    main = threading.get_ident()
    sched.call_later(0.2, lambda: seen.append(("late", threading.get_ident() == main)))
    sched.call_later(0.05, lambda: seen.append(("early", threading.get_ident() == main)))
    sched.call_later(0.3, root.quit)
    assert run_loop(root)
    assert seen == [("early", True), ("late", True)]
    sched.close()


@pytest.mark.gui
def test_cancelled_timers_never_run(root: tk.Tk) -> None:
    sched = TkScheduler(root)
    ran: list[str] = []
    sched.call_later(0.1, lambda: ran.append("main"))()  # cancelled on the main thread
    cancel_from_thread = sched.call_later(0.3, lambda: ran.append("thread"))
    threading.Thread(target=cancel_from_thread).start()
    sched.call_later(0.5, root.quit)
    assert run_loop(root)
    assert ran == []
    assert pending_timers(root) == ()  # nothing left armed
    sched.close()


@pytest.mark.gui
@pytest.mark.parametrize("wake_socket", WAKE_PATHS)
def test_a_post_from_another_thread_wakes_the_idle_loop(root: tk.Tk, wake_socket: bool
                                                        ) -> None:
    sched = TkScheduler(root, wake_socket=wake_socket)
    main = threading.get_ident()
    result: dict[str, float | bool] = {}
    posted_at: list[float] = []

    def on_main() -> None:
        result["latency"] = time.monotonic() - posted_at[0]
        result["main"] = threading.get_ident() == main
        root.quit()

    def worker() -> None:
        time.sleep(0.5)  # the loop is idle (asleep) by now
        posted_at.append(time.monotonic())
        sched.post(on_main)

    threading.Thread(target=worker).start()
    assert run_loop(root)
    assert result["main"] is True
    assert result["latency"] < 0.5
    sched.close()


@pytest.mark.gui
@pytest.mark.parametrize("wake_socket", WAKE_PATHS)
def test_posts_made_before_the_loop_starts_run_once_it_does(root: tk.Tk, wake_socket: bool
                                                            ) -> None:
    sched = TkScheduler(root, wake_socket=wake_socket)
    ran: list[str] = []
    thread = threading.Thread(target=lambda: sched.post(lambda: ran.append("thread")))
    thread.start()
    thread.join()  # event_generate here would raise "main thread is not in main loop"
    sched.post(lambda: ran.append("main"))
    sched.post(root.quit)
    assert run_loop(root)
    assert ran == ["thread", "main"]
    sched.close()


@pytest.mark.gui
def test_call_later_from_another_thread_is_armed_on_the_main_thread(root: tk.Tk) -> None:
    sched = TkScheduler(root)
    ran: list[bool] = []
    main = threading.get_ident()

    def arm() -> None:
        sched.call_later(0.05, lambda: (ran.append(threading.get_ident() == main),
                                        root.quit()))

    threading.Thread(target=arm).start()
    assert run_loop(root)
    assert ran == [True]
    sched.close()


@pytest.mark.gui
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_signal_reaches_the_sleeping_loop_and_close_restores_handlers(root: tk.Tk) -> None:
    before = signal.getsignal(signal.SIGTERM)
    sched = TkScheduler(root)
    got: list[tuple[int, bool]] = []
    main = threading.get_ident()

    def on_signal(signum: int) -> None:
        got.append((signum, threading.get_ident() == main))
        root.quit()

    sched.handle_signals(on_signal)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    started = time.monotonic()
    assert run_loop(root)
    assert got == [(signal.SIGTERM, True)]
    assert time.monotonic() - started < 1.5
    sched.close()
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.set_wakeup_fd(-1) == -1  # the wake-up fd was given back


@pytest.mark.gui
def test_nothing_is_scheduled_while_idle(root: tk.Tk) -> None:
    # design.md §4: no polling loop. With signal handling installed, an idle app has no timer.
    sched = TkScheduler(root)
    sched.handle_signals(lambda _n: None)
    sched.call_later(0.3, root.quit)
    assert run_loop(root)
    assert pending_timers(root) == ()
    sched.close()


@pytest.mark.gui
def test_a_failing_callback_is_logged_and_the_loop_goes_on(
    root: tk.Tk, caplog: pytest.LogCaptureFixture
) -> None:
    sched = TkScheduler(root)
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("bug")

    sched.post(broken)
    sched.post(lambda: ran.append("after"))
    sched.post(root.quit)
    with caplog.at_level(logging.ERROR):
        assert run_loop(root)
    assert ran == ["after"]
    assert "error in a main-loop callback" in caplog.text
    sched.close()


@pytest.mark.gui
def test_posts_after_close_are_dropped(root: tk.Tk) -> None:
    sched = TkScheduler(root)
    sched.close()
    ran: list[str] = []
    sched.post(lambda: ran.append("late"))
    root.after(100, root.quit)
    root.mainloop()
    assert ran == []


# ---------------------------------------------------------------------------------------------
# Part 2: the app as a real process
# ---------------------------------------------------------------------------------------------


def usage_answer(session: float, weekly: float, *, session_elapsed: float = 0.6,
                 week_elapsed: float = 0.5) -> dict[str, Any]:
    """A usage answer whose reset times put the windows `*_elapsed` of the way through."""
    now = datetime.now(timezone.utc)
    session_reset = now + timedelta(hours=5) * (1 - session_elapsed)
    week_reset = now + timedelta(days=7) * (1 - week_elapsed)
    return {
        "five_hour": {"utilization": session, "resets_at": session_reset.isoformat()},
        "seven_day": {"utilization": weekly, "resets_at": week_reset.isoformat()},
    }


def new_icon(display: str, before: list[DockedIcon], timeout: float = 15.0) -> DockedIcon:
    old = {icon.window for icon in before}
    found: list[DockedIcon] = []

    def docked() -> bool:
        found[:] = [i for i in docked_icons(display) if i.window not in old and i.width > 4]
        return bool(found)

    wait_until(docked, timeout, "the app's icon to dock in trayer")
    return found[0]


def start_polled(display: str, fake_server: FakeAnthropic, env: dict[str, str]
                 ) -> tuple[subprocess.Popen[str], DockedIcon]:
    """`claude-pulse -v` on the tray, once its icon has docked and its first poll reached the
    fake server; the app is ended (its stderr printed) if either does not come."""
    before = docked_icons(display)
    proc = spawn_pulse(display, "-v", env=env)
    try:
        icon = new_icon(display, before)
        wait_until(lambda: len(fake_server.requests_to("usage")) >= 1, 15, "the first poll")
    except BaseException:
        print(finish(proc, timeout=1)[1])
        raise
    return proc, icon


def where(display: str, icon: DockedIcon) -> DockedIcon:
    """The icon's geometry now (the tray may have laid its icons out again)."""
    for found in docked_icons(display):
        if found.window == icon.window:
            return found
    raise AssertionError("the icon left the tray")


def open_menu(display: str, icon: DockedIcon) -> tuple[int, int, int, int]:
    """Right-click the icon; the Tk popup menu's x, y, width and height."""
    icon = where(display, icon)
    click(display, *icon.centre, button=3)
    menu = wait_for_window(display, MENU, timeout=5)
    geometry = dict(line.split("=", 1) for line in
                    xdotool(display, "getwindowgeometry", "--shell", str(menu)).split())
    return (int(geometry["X"]), int(geometry["Y"]), int(geometry["WIDTH"]),
            int(geometry["HEIGHT"]))


def menu_click(display: str, icon: DockedIcon, row: str) -> None:
    """Right-click the icon, then choose "refresh", "log out" or "last" (Quit) in the Tk popup
    menu."""
    x, y, w, h = open_menu(display, icon)
    if row == "log out":
        # From the (disabled) first line, Up wraps round to Quit, then Log out.
        xdotool(display, "mousemove", str(x + w // 2), str(y + 6))
        time.sleep(0.2)
        xdotool(display, "key", "Up", "Up", "Return")
    elif row == "refresh":
        # The menu opens with the numbers (disabled lines, skipped by the arrow keys), so the
        # second action is found by keyboard, as a user may do too, not at a fixed height.
        # The pointer rests on the first (disabled) line, so the keys go to the menu.
        xdotool(display, "mousemove", str(x + w // 2), str(y + 6))
        time.sleep(0.2)
        xdotool(display, "key", "Down", "Down", "Return")
    else:
        click(display, x + w // 2, y + h - 12)  # "Quit" is the last row


@pytest.fixture
def logged_in_home(pulse_home: Path, fake_config: Path, fake_server: FakeAnthropic) -> Path:
    seed_credentials(pulse_home, fake_server)
    return pulse_home


@pytest.fixture
def app_env(pulse_home: Path, tmp_path: Path) -> dict[str, str]:
    # A private XDG_CONFIG_HOME: at start-up the app makes "start at login" follow the config,
    # which must never touch the developer's real autostart folder.
    return {"CLAUDE_PULSE_HOME": str(pulse_home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


@pytest.fixture
def no_leftovers(pulse_home: Path) -> Iterator[None]:
    yield
    wait_until(lambda: not processes_with_env("CLAUDE_PULSE_HOME", str(pulse_home)), 5,
               "every process of the test's app to end")


@pytest.mark.gui
@pytest.mark.tray
@pytest.mark.slow
def test_icon_follows_the_server_and_menu_and_window_work(
    tray_display: str, logged_in_home: Path, fake_server: FakeAnthropic,
    app_env: dict[str, str], tmp_path: Path, no_leftovers: None,
) -> None:
    fake_server.usage = usage_answer(42.0, 30.0)
    proc, icon = start_polled(tray_display, fake_server, app_env)
    try:
        time.sleep(0.7)  # the status reaches the icon through the main loop
        first = icon_pixels(tray_display, icon, tmp_path / "a.png")

        # Right click → Tk menu (the first Tk of this run: built now, the main loop moves over to
        # Tk's with the poller's timers) → "Refresh now": a new poll, and the icon changes.
        fake_server.usage = usage_answer(93.0, 61.0)
        menu_click(tray_display, icon, "refresh")
        wait_until(lambda: len(fake_server.requests_to("usage")) >= 2, 10, "Refresh now")
        wait_until(lambda: icon_pixels(tray_display, icon, tmp_path / "b.png") != first, 5,
                   "the icon to show the new numbers")

        # Left click → the Deep Dive window, showing 93 % and an over-budget week.
        click(tray_display, *where(tray_display, icon).centre)
        window = wait_for_window(tray_display, WINDOW)
        time.sleep(0.3)
        card = grab(tray_display, tmp_path / "window.png", window)
        assert abs(arc_coverage(card, ORANGE) - 0.93) < 0.04
        lower = (0, card.height // 2, card.width, card.height)
        assert count_near(card, RED, lower, 25) > 20  # the "Over budget" pill
        assert count_near(card, GREEN, lower, 25) == 0

        # A second left click closes it again (the icon toggles the window).
        click(tray_display, *where(tray_display, icon).centre)
        wait_for_no_window(tray_display, WINDOW, timeout=5)

        # Right click → "Quit": the process ends by itself, successfully.
        menu_click(tray_display, icon, "last")
        code, err = finish(proc, timeout=5)
        assert code == 0, err
        # XEmbed has no tooltip: the menu posted on the first right click opened with both
        # numbers (the Tk menu logs the lines it shows each time it is posted).
        assert re.search(r"tray menu lines: Session 42% · resets \d\d:\d\d \| "
                         r"Week 30% · on track$", err, re.MULTILINE), err
        assert re.search(r"tray menu lines: Session 93% · resets \d\d:\d\d \| "
                         r"Week 61% · over budget$", err, re.MULTILINE), err
    finally:
        print(finish(proc, timeout=1)[1])  # the app's debug log, shown if the test failed


@pytest.mark.gui
@pytest.mark.tray
def test_the_menus_refresh_now_is_debounced_with_the_windows_button(
    tray_display: str, logged_in_home: Path, fake_server: FakeAnthropic,
    app_env: dict[str, str], no_leftovers: None,
) -> None:
    """Issue 15 item 6: "Refresh now" chosen six times fast in the tray menu sends one request
    (counted at the fake server), and the menu then says so; the window's button shares the
    same 30 s (no second request from it either)."""
    fake_server.usage = usage_answer(42.0, 30.0)
    proc, icon = start_polled(tray_display, fake_server, app_env)
    try:
        time.sleep(0.5)
        polled = len(fake_server.requests_to("usage"))
        for _ in range(6):
            menu_click(tray_display, icon, "refresh")
            wait_for_no_window(tray_display, MENU, timeout=5)
        time.sleep(1.0)  # a second request, were one sent, would be here by now
        assert len(fake_server.requests_to("usage")) == polled + 1
        # The window's button: the same debounce.
        click(tray_display, *where(tray_display, icon).centre)
        window = wait_for_window(tray_display, WINDOW)
        xdotool(tray_display, "key", "--window", str(window), "F5")
        time.sleep(1.0)
        assert len(fake_server.requests_to("usage")) == polled + 1
        menu_click(tray_display, icon, "last")
        code, err = finish(proc, timeout=5)
        assert code == 0, err
        # The menu, opened again after the refresh, said what happened.
        assert re.search(r"tray menu entry: Updated just now$", err, re.MULTILINE), err
    finally:
        print(finish(proc, timeout=1)[1])


@pytest.mark.gui
@pytest.mark.tray
def test_log_out_asks_first_and_only_log_out_removes_the_login(
    tray_display: str, logged_in_home: Path, fake_server: FakeAnthropic,
    app_env: dict[str, str], no_leftovers: None,
) -> None:
    """Issue 15 item 6: the tray menu's Log out opens the window with "Log out of Claude
    Pulse?"; Cancel (Tab, Enter) keeps the credentials byte for byte, Enter on the focused Log
    out removes them. (Escape: tests/test_deep_dive.py; sent to this process's window it left
    later windows in this X server deaf to Escape.)"""
    creds = logged_in_home / "credentials.json"
    before = docked_icons(tray_display)
    proc = spawn_pulse(tray_display, "-v", env=app_env)
    try:
        icon = new_icon(tray_display, before)
        wait_until(lambda: len(fake_server.requests_to("usage")) >= 1, 15, "the first poll")
        time.sleep(0.5)
        saved = creds.read_bytes()

        def ask(*keys: str) -> None:
            menu_click(tray_display, icon, "log out")
            window = wait_for_window(tray_display, WINDOW)
            time.sleep(0.5)  # drawn, and the focus on Log out
            xdotool(tray_display, "key", "--window", str(window), *keys)

        ask("Tab", "Return")  # Cancel
        time.sleep(1.0)
        assert creds.read_bytes() == saved
        ask("Return")
        wait_until(lambda: not creds.exists(), 5, "Log out to remove the login")
        menu_click(tray_display, icon, "last")
        code, err = finish(proc, timeout=5)
        assert code == 0, err
    finally:
        print(finish(proc, timeout=1)[1])


@pytest.mark.gui
@pytest.mark.tray
@pytest.mark.notify
def test_a_click_on_a_notification_opens_the_window(
    tray_display: str, logged_in_home: Path, fake_server: FakeAnthropic,
    app_env: dict[str, str], no_leftovers: None, notification_daemon: NotificationDaemon,
) -> None:
    # (no_leftovers first: dunst, started with this test's environment, stops before it checks)
    fake_server.usage = usage_answer(85.0, 30.0)  # past 80 %: the first poll alerts
    before = docked_icons(tray_display)
    proc = spawn_pulse(tray_display, "-v", env={
        **app_env, "DBUS_SESSION_BUS_ADDRESS": notification_daemon.address})
    try:
        new_icon(tray_display, before)
        bus = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": notification_daemon.address}

        def shown() -> bool:
            out = subprocess.run(["dunstctl", "count", "displayed"], env=bus,
                                 capture_output=True, text=True, timeout=10, check=True)
            return out.stdout.strip() == "1"

        wait_until(shown, 15, "the 80 % notification")
        assert not find_windows(tray_display, WINDOW)
        subprocess.run(["dunstctl", "action", "0"], env=bus, timeout=10, check=True)  # a click
        wait_for_window(tray_display, WINDOW, timeout=5)
    finally:
        proc.terminate()
        print(finish(proc, timeout=5)[1])


@pytest.mark.gui
@pytest.mark.tray
@pytest.mark.parametrize("window", [pytest.param(True, id="tk-loop"),
                                    pytest.param(False, id="before-tk")])
def test_sigterm_ends_the_app_cleanly(
    tray_display: str, logged_in_home: Path, fake_server: FakeAnthropic,
    app_env: dict[str, str], no_leftovers: None, window: bool,
) -> None:
    before = docked_icons(tray_display)
    proc = spawn_pulse(tray_display, env=app_env)
    try:
        icon = new_icon(tray_display, before)
        if window:  # the window builds Tk: the main loop is Tk's from then on
            click(tray_display, *icon.centre)
            wait_for_window(tray_display, WINDOW)
        time.sleep(1.0)  # idle: the main loop is asleep (in Tcl, or in select()) at the signal
        code, err, took = terminate(proc, timeout=5)
        assert code == 0, err
        assert took < 5
        assert "Traceback" not in err
        wait_until(lambda: all(i.window != icon.window for i in docked_icons(tray_display)), 5,
                   "the icon to leave the tray")
    finally:
        finish(proc, timeout=1)


@pytest.mark.gui
@pytest.mark.tray
@pytest.mark.slow
def test_a_dripping_usage_answer_goes_stale_at_the_deadline_and_refresh_now_works(
    tray_display: str, logged_in_home: Path, fake_server: FakeAnthropic,
    app_env: dict[str, str], tmp_path: Path, no_leftovers: None,
) -> None:
    """Issue 16 item 1, in the real tray app: the usage answer comes one byte every 0.5 s; with
    a 2 s deadline the poll fails at 2 s (the icon keeps the old numbers, greyed: stale) and
    Refresh now polls again at once — nothing stays in flight — and the numbers are fresh."""
    config_path = logged_in_home / "config.json"
    config = json.loads(config_path.read_text("utf-8"))
    config_path.write_text(json.dumps({**config, "usage_timeout_seconds": 2}), "utf-8")
    raw = usage_answer(42.0, 30.0)
    SnapshotStore(logged_in_home / "snapshot.json").save(Snapshot(
        datetime.now(timezone.utc) - timedelta(hours=1), parse_usage(raw), raw, "api"))
    fake_server.usage = raw
    fake_server.queue("usage", Reply.drip(0.5))
    log_file = logged_in_home / "logs" / "claude-pulse.log"
    proc, icon = start_polled(tray_display, fake_server, app_env)
    try:
        polled = time.monotonic()
        wait_until(lambda: log_file.exists() and "did not answer in time (limit 2 s)"
                   in log_file.read_text("utf-8"), 4, "the poll to fail at its deadline")
        assert time.monotonic() - polled < 2 + 1.5
        time.sleep(0.5)  # the status reaches the icon through the main loop
        stale = icon_pixels(tray_display, icon, tmp_path / "stale.png")  # the numbers, greyed

        menu_click(tray_display, icon, "refresh")  # not blocked by the dripping poll
        wait_until(lambda: len(fake_server.requests_to("usage")) >= 2, 5, "Refresh now's poll")
        wait_until(lambda: icon_pixels(tray_display, icon, tmp_path / "f.png") != stale, 5,
                   "the icon to show fresh numbers again")
        menu_click(tray_display, icon, "last")
        code, err = finish(proc, timeout=5)
        assert code == 0, err
    finally:
        finish(proc, timeout=1)


@pytest.mark.gui
@pytest.mark.tray
@pytest.mark.slow
def test_the_tray_follows_claude_codes_feed_and_asks_anthropic_once(
    tray_display: str, logged_in_home: Path, fake_server: FakeAnthropic,
    app_env: dict[str, str], tmp_path: Path, no_leftovers: None,
) -> None:
    """Issue 14, with real processes: the tray, and `claude-pulse statusline` run every 3 s for a
    minute with Claude Code's JSON on stdin. The statusline pokes the tray over its socket; the
    icon shows each fed number before the next feed, and the only usage request is the tray's
    first, full one (the 10-minute and 30-minute rules run in tests/test_feed.py, simulated)."""
    fake_server.usage = usage_answer(11.0, 30.0)  # Anthropic's numbers: never fed
    env = {**os.environ, **app_env}
    proc, icon = start_polled(tray_display, fake_server, app_env)
    try:
        wait_until((logged_in_home / "tray.port").exists, 10, "the tray's socket record")
        time.sleep(0.7)  # the status reaches the icon through the main loop
        shown = icon_pixels(tray_display, icon, tmp_path / "start.png")
        seen: dict[float, Any] = {}  # fed session % -> the icon showing it
        values = [40.0, 75.0, 40.0, 93.0, 75.0, 52.0]
        started = time.monotonic()
        for n in range(20):
            value = values[n % len(values)]
            out = subprocess.run([sys.executable, "-m", "claude_pulse", "statusline"],
                                 input=claude_code_stdin(value, 50.0), capture_output=True,
                                 env=env, timeout=30, check=False)
            assert out.returncode == 0 and out.stdout.decode().startswith(
                f"5h {int(value)}%"), out
            fed = time.monotonic()
            path = tmp_path / f"{n}.png"
            if value in seen:  # the same number again: exactly the icon it had then
                wait_until(lambda v=value, p=path: icon_pixels(tray_display, icon, p) == seen[v],
                           3, f"the icon to show {value} again")
            else:
                wait_until(lambda p=path, old=shown: icon_pixels(tray_display, icon, p) != old,
                           3, f"the icon to change for {value}")
                time.sleep(0.3)
                seen[value] = icon_pixels(tray_display, icon, path)
            shown = seen[value]
            # Within one feed update: before the next one, 3 s after this one.
            assert time.monotonic() - fed < 3.0
            time.sleep(max(0.0, started + 3.0 * (n + 1) - time.monotonic()))
        assert len(fake_server.requests_to("usage")) == 1  # the tray's first, full fetch
        assert len(fake_server.requests_to("token")) == 0

        click(tray_display, *where(tray_display, icon).centre)  # the Deep Dive
        wait_for_window(tray_display, WINDOW)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc, timeout=5)
        assert code == 0, err
        assert re.search(r"window: From Claude Code · just now$", err, re.MULTILINE), err
        assert len(fake_server.requests_to("usage")) == 1
    finally:
        print(finish(proc, timeout=1)[1])


@pytest.mark.gui
@pytest.mark.tray
def test_a_second_launch_opens_the_first_ones_window(
    tray_display: str, logged_in_home: Path, app_env: dict[str, str], no_leftovers: None,
) -> None:
    before = docked_icons(tray_display)
    first = spawn_pulse(tray_display, env=app_env)
    try:
        new_icon(tray_display, before)
        assert not find_windows(tray_display, WINDOW)
        second = spawn_pulse(tray_display, env=app_env)
        code, err = finish(second, timeout=10)
        assert code == 0
        assert "already running" in err
        wait_for_window(tray_display, WINDOW)
        assert len(docked_icons(tray_display)) == len(before) + 1  # still one icon
    finally:
        assert terminate(first, timeout=5)[0] == 0


FOLLOW_BROWSER = """\
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
opener.open(sys.argv[1], timeout=10).read()
"""


@pytest.mark.gui
@pytest.mark.tray
def test_first_run_logs_in_through_the_browser_then_polls(
    tray_display: str, pulse_home: Path, fake_config: Path, fake_server: FakeAnthropic,
    app_env: dict[str, str], tmp_path: Path, no_leftovers: None,
) -> None:
    fake_server.usage = usage_answer(85.0, 20.0)
    browser = tmp_path / "follow.py"
    browser.write_text(FOLLOW_BROWSER, encoding="utf-8")
    env = {**app_env, "BROWSER": f"{sys.executable} {browser} %s"}
    before = docked_icons(tray_display)
    proc = spawn_pulse(tray_display, env=env)
    try:
        icon = new_icon(tray_display, before)
        # First run (spec §5.1): the window opens by itself and the login completes.
        wait_for_window(tray_display, WINDOW)
        wait_until(lambda: fake_server.exchange_count == 1, 15, "the code exchange")
        wait_until(lambda: len(fake_server.requests_to("usage")) >= 1, 15, "the first poll")
        assert (pulse_home / "credentials.json").exists()
        time.sleep(0.7)
        tile = icon_pixels(tray_display, icon, tmp_path / "icon.png")
        assert any(near(p, ORANGE, 60) or near(p, (255, 123, 46), 60)
                   for p in rgb_pixels(tile)), "the icon shows no level colour"
        assert terminate(proc, timeout=5)[0] == 0
    finally:
        finish(proc, timeout=1)


@pytest.mark.gui
def test_no_display_is_one_clear_line(pulse_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update({"CLAUDE_PULSE_HOME": str(pulse_home), "PYSTRAY_BACKEND": "xorg"})
    out = subprocess.run([sys.executable, "-m", "claude_pulse"], env=env, capture_output=True,
                         text=True, timeout=30, check=False)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "display" in out.stderr.lower()


# ---------------------------------------------------------------------------------------------
# Part 3: the app in this process (login timeout → Retry, toggles, log out)
# ---------------------------------------------------------------------------------------------


@pytest.mark.gui
def test_login_timeout_offers_retry_and_retry_logs_in(
    display: str, in_process_app: Callable[..., Any], in_process_services: Callable[..., Any],
    fake_server: FakeAnthropic,
) -> None:
    from claude_pulse.core.status import Phase
    from claude_pulse.fake.demo import follow_login_redirects

    opened: list[str] = []
    follow = {"now": False}

    def browser(url: str) -> bool:
        opened.append(url)
        return follow_login_redirects(url) if follow["now"] else True

    app = in_process_app(in_process_services(open_browser=browser), login_timeout_s=1.0)

    def script(d: Driver) -> None:
        wait_until(lambda: d.phase() is Phase.LOGIN_FAILED, 10, "the login to time out")
        view = d.on_main(lambda: app._window.view)
        assert view.banner is not None and view.banner.action is not None
        assert view.banner.action.value == "Try again"
        assert d.on_main(lambda: app._window.visible)
        follow["now"] = True
        box = d.on_main(lambda: app._window.action_box)
        top = d.on_main(lambda: (app._window.toplevel.winfo_rootx(),
                                 app._window.toplevel.winfo_rooty()))
        click(display, top[0] + (box[0] + box[2]) // 2, top[1] + (box[1] + box[3]) // 2)
        wait_until(lambda: d.phase() is Phase.OK, 10, "the retried login and first poll")

    assert Driver(app).run(script) == 0
    assert len(opened) == 2
    assert fake_server.exchange_count == 1


@pytest.mark.gui
def test_toggles_save_config_and_a_corrupt_config_is_reported_not_overwritten(
    in_process_app: Callable[..., Any], in_process_services: Callable[..., Any],
    pulse_home: Path,
) -> None:
    import json

    from claude_pulse.fake.demo import MemoryAutostart

    seed = FakeAnthropic().start()
    try:
        seed_credentials(pulse_home, seed)
    finally:
        seed.stop()
    autostart = MemoryAutostart()
    app = in_process_app(in_process_services(autostart=autostart))
    alerts_on = lambda: app.services.settings.current().notifications_enabled  # noqa: E731
    config = pulse_home / "config.json"

    def script(d: Driver) -> None:
        d.on_main(lambda: app.controller.set_alerts(False))
        assert json.loads(config.read_text())["notifications_enabled"] is False
        assert d.on_main(lambda: app._window.view is None or not alerts_on())
        d.on_main(lambda: app.controller.set_autostart(True))
        assert autostart.is_enabled()
        assert json.loads(config.read_text())["start_with_windows"] is True
        entries = d.on_main(lambda: app.controller.menu_entries())
        checks = {e.label: e.checked() for e in entries if e.checked is not None}
        assert checks == {"Limit Alerts": False, "Start at login": True}

        config.write_text("{ not json", encoding="utf-8")
        d.on_main(lambda: app.controller.set_alerts(True))
        assert config.read_text() == "{ not json"  # left for the user to repair
        assert d.on_main(alerts_on) is False
        assert d.on_main(lambda: app._window.visible)  # the problem is shown to the user

    assert Driver(app).run(script) == 0


@pytest.mark.gui
def test_log_out_returns_to_the_signed_out_face(
    in_process_app: Callable[..., Any], in_process_services: Callable[..., Any],
    pulse_home: Path, fake_server: FakeAnthropic,
) -> None:
    from claude_pulse.core.status import Phase

    seed_credentials(pulse_home, fake_server)
    app = in_process_app(in_process_services())

    def script(d: Driver) -> None:
        wait_until(lambda: d.phase() is Phase.OK, 10, "the first poll")
        d.on_main(lambda: app.controller.log_out())
        assert d.phase() is Phase.SIGNED_OUT
        assert not (pulse_home / "credentials.json").exists()
        d.on_main(lambda: app.controller.show_window())
        view = d.on_main(lambda: app._window.view)
        assert view.banner is not None and view.banner.action is not None
        assert view.banner.action.value == "Log in"

    assert Driver(app).run(script) == 0
