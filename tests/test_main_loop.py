"""The main loop before Tk (ui/main_loop.py) and the window built on first need
(app.LazyWindow): real threads, sockets and signals; no display."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from claude_pulse.app import LazyWindow
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.viewmodel import LOGIN_CHOICE, LoginOption
from claude_pulse.ui.main_loop import MainLoop


def run_until(loop: MainLoop, done: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Run the loop on this (main) thread until `done()`; fails after `timeout_s`."""
    deadline = time.monotonic() + timeout_s

    def check() -> None:
        if done() or time.monotonic() > deadline:
            loop.stop()
        else:
            loop.call_later(0.02, check)

    loop.call_later(0.0, check)
    loop.run()
    assert done(), "timed out"


@pytest.fixture
def loop() -> Any:
    main_loop = MainLoop()
    yield main_loop
    main_loop.close()


def test_timers_run_on_the_main_thread_in_deadline_order(loop: MainLoop) -> None:
    seen: list[tuple[str, bool]] = []
    main = threading.get_ident()
    loop.call_later(0.2, lambda: seen.append(("late", threading.get_ident() == main)))
    loop.call_later(0.05, lambda: seen.append(("early", threading.get_ident() == main)))
    loop.call_later(0.05, lambda: seen.append(("early too", True)))  # same deadline: in order
    loop.call_later(0.3, loop.stop)
    loop.run()
    assert seen == [("early", True), ("early too", True), ("late", True)]


def test_a_post_from_another_thread_wakes_the_sleeping_loop(loop: MainLoop) -> None:
    ran: list[bool] = []
    main = threading.get_ident()

    def post_later() -> None:
        time.sleep(0.2)
        loop.post(lambda: (ran.append(threading.get_ident() == main), loop.stop()))

    threading.Thread(target=post_later).start()
    started = time.monotonic()
    loop.run()  # no timer at all: only the post can end this
    assert ran == [True]
    assert time.monotonic() - started < 3


def test_cancelled_timers_never_run_nor_wake_the_loop(loop: MainLoop) -> None:
    ran: list[str] = []
    loop.call_later(0.1, lambda: ran.append("main"))()  # cancelled on the main thread
    cancel = loop.call_later(0.3, lambda: ran.append("thread"))
    threading.Thread(target=cancel).start()
    far = loop.call_later(3600, lambda: ran.append("far"))
    loop.call_later(0.5, loop.stop)
    loop.run()
    far()
    assert ran == []


def test_nothing_wakes_an_idle_loop(loop: MainLoop) -> None:
    # Idle = asleep in select() with no timeout: the only wake-up is the post that stops it.
    threading.Timer(1.0, lambda: loop.post(loop.stop)).start()
    loop.run()
    assert loop.wakeups == 1


def test_a_timer_armed_from_another_thread_shortens_the_sleep(loop: MainLoop) -> None:
    loop.call_later(3600, lambda: None)  # the loop sleeps for an hour
    fired: list[float] = []
    started = time.monotonic()
    threading.Timer(0.1, lambda: loop.call_later(0.1, lambda: (fired.append(
        time.monotonic() - started), loop.stop()))).start()
    loop.run()
    assert fired and fired[0] < 2


def test_a_failing_callback_is_logged_and_the_loop_goes_on(
    loop: MainLoop, caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> None:
        raise ValueError("boom")

    loop.post(broken)
    loop.call_later(0.05, loop.stop)
    loop.run()
    assert "error in a main-loop callback" in caplog.text


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill SIGTERM ends the process there")
def test_a_signal_reaches_the_sleeping_loop_and_close_restores_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)
    loop = MainLoop()
    got: list[int] = []
    loop.handle_signals(lambda signum: (got.append(signum), loop.stop()))
    threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
    started = time.monotonic()
    loop.run()
    assert got == [signal.SIGTERM]
    assert time.monotonic() - started < 3
    loop.close()
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.set_wakeup_fd(-1) == -1  # ours was taken back too


class FakeTk:
    """A TkScheduler stand-in that records what it was handed."""

    def __init__(self) -> None:
        self.posts: list[Callable[[], None]] = []
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self.cancelled: list[int] = []
        self.signals: tuple[Any, ...] | None = None
        self.closed = False

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        index = len(self.timers)
        self.timers.append((delay_s, fn))
        return lambda: self.cancelled.append(index)

    def post(self, fn: Callable[[], None]) -> None:
        self.posts.append(fn)

    def handle_signals(self, on_signal: Callable[[int], None],
                       signals: Iterable[signal.Signals] = ()) -> None:
        self.signals = (on_signal, tuple(signals))

    def close(self) -> None:
        self.closed = True


def test_the_hand_over_moves_timers_posts_and_signals_to_tk(loop: MainLoop) -> None:
    ran: list[str] = []
    on_signal = ran.append
    loop.handle_signals(lambda s: on_signal(str(s)))
    loop.post(lambda: ran.append("first post"))
    loop.post(lambda: ran.append("second post"))
    loop.call_later(60, lambda: ran.append("in a minute"))
    dropped = loop.call_later(30, lambda: ran.append("cancelled"))
    dropped()
    cancel_later = loop.call_later(120, lambda: ran.append("cancelled after"))
    tk = FakeTk()
    loop.hand_over(tk)
    assert loop.handed_over
    loop.run()  # returns at once: Tk runs everything now
    assert ran == []
    for fn in tk.posts:
        fn()
    assert ran == ["first post", "second post"]
    assert [round(d) for d, _ in tk.timers] == [60, 120]  # the time they had left
    tk.timers[0][1]()
    assert ran[-1] == "in a minute"
    cancel_later()  # a cancel after the hand-over cancels Tk's timer
    assert tk.cancelled == [1]
    tk.timers[1][1]()
    assert ran[-1] == "in a minute"
    loop.post(lambda: ran.append("late post"))  # goes straight to Tk
    loop.call_later(5, lambda: None)
    assert len(tk.posts) == 3 and len(tk.timers) == 3
    assert tk.signals is not None and tk.signals[1] == (signal.SIGINT, signal.SIGTERM)
    loop.close()
    assert tk.closed


def test_posts_after_close_are_dropped() -> None:
    loop = MainLoop()
    loop.close()
    loop.post(lambda: pytest.fail("ran after close"))


# ---- LazyWindow ---------------------------------------------------------------------------


class FakeWindow:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.keep_open = False
        self._visible = False

    @property
    def visible(self) -> bool:
        return self._visible

    def show(self, anchor: tuple[int, int] | None = None) -> None:
        self._visible = True
        self.calls.append(("show", anchor))

    def hide(self) -> None:
        self._visible = False
        self.calls.append(("hide", None))

    def set_status(self, status: AppStatus) -> None:
        self.calls.append(("status", status.phase))

    def settings_changed(self) -> None:
        self.calls.append(("settings", None))

    def set_problem(self, text: str | None) -> None:
        self.calls.append(("problem", text))

    def show_note(self, text: str) -> None:
        self.calls.append(("note", text))

    def show_refresh(self, text: str | None) -> None:
        self.calls.append(("refresh", text))

    def offer_login_choice(self, options: Sequence[LoginOption]) -> None:
        self.calls.append(("choice", tuple(options)))

    def show_login(self, url: str | None, browser_started: bool | None) -> None:
        self.calls.append(("login", url))

    def ask_switch(self, saved: str, new: str, answer: Callable[[bool], None]) -> None:
        self.calls.append(("switch", (saved, new)))

    @property
    def view(self) -> str:
        return "the real window's view"


def lazy() -> tuple[LazyWindow, list[FakeWindow]]:
    made: list[FakeWindow] = []

    def build() -> FakeWindow:
        made.append(FakeWindow())
        return made[-1]

    return LazyWindow(build), made


def test_the_window_is_built_on_show_with_what_it_was_told() -> None:
    window, made = lazy()
    window.set_problem("config.json is not valid JSON")
    window.set_status(AppStatus(Phase.LOADING))
    window.show_note("refused")
    window.set_status(AppStatus(Phase.OK))  # a new state drops the note, as the window does
    window.settings_changed()
    window.offer_login_choice(())
    window.keep_open = True
    assert made == [] and not window.visible and window.keep_open
    window.hide()  # nothing to hide
    window.show((5, 6))
    assert len(made) == 1
    assert made[0].calls == [("problem", "config.json is not valid JSON"),
                             ("status", Phase.OK), ("show", (5, 6))]
    assert made[0].keep_open and window.visible
    window.set_status(AppStatus(Phase.SIGNED_OUT))  # built: straight through
    window.show_note("later")
    window.hide()
    assert made[0].calls[-3:] == [("status", Phase.SIGNED_OUT), ("note", "later"),
                                  ("hide", None)]
    assert len(made) == 1


def test_a_note_refreshs_words_and_a_login_choice_wait_for_the_window() -> None:
    window, made = lazy()
    window.set_status(AppStatus(Phase.SIGNED_OUT))
    window.offer_login_choice(LOGIN_CHOICE)
    window.show_note("could not save")
    window.show_refresh("Updating…")
    assert made == []
    window.show()
    assert made[0].calls == [("status", Phase.SIGNED_OUT), ("choice", LOGIN_CHOICE),
                             ("note", "could not save"), ("refresh", "Updating…"),
                             ("show", None)]


def test_every_window_control_member_is_lazywindows_own() -> None:
    # LazyWindow's __getattr__ would hide a missing member from mypy (the window would then be
    # built for it): each one the controller uses must be defined on LazyWindow itself.
    from claude_pulse.desktop import WindowControl

    members = {n for n in vars(WindowControl) if not n.startswith("_")}
    members |= set(getattr(WindowControl, "__annotations__", {}))
    assert members >= {"show", "hide", "set_status", "show_refresh", "keep_open", "visible"}
    assert sorted(m for m in members if not hasattr(LazyWindow, m)) == []


def test_the_login_panel_and_the_switch_question_build_the_window() -> None:
    window, made = lazy()
    window.show_login("https://example.invalid/authorize", None)
    assert len(made) == 1 and made[0].calls == [("login", "https://example.invalid/authorize")]
    other, made_other = lazy()
    other.ask_switch("a@x", "b@x", lambda _yes: None)
    assert made_other[0].calls == [("switch", ("a@x", "b@x"))]


def test_the_real_windows_own_attributes_build_it() -> None:
    window, made = lazy()
    assert window.built is None
    assert window.view == "the real window's view"
    assert window.built is made[0]
    with pytest.raises(AttributeError):
        _ = window.no_such_attribute
