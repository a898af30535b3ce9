"""Refresh now's one debounce (core.refresh): at most one request per 30 s from any surface."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_pulse.core.refresh import (
    REFRESH_GAP_S,
    RefreshDebounce,
    RefreshState,
    refresh_text,
)


def test_a_press_asks_then_presses_within_30_s_do_not() -> None:
    d = RefreshDebounce()
    assert d.state(0.0) is RefreshState.READY
    pressed = d.press(100.0)
    assert pressed is not None and pressed.state(100.0) is RefreshState.UPDATING
    assert pressed.press(101.0) is None and pressed.press(129.9) is None
    assert pressed.state(130.0) is RefreshState.READY and pressed.press(130.0) is not None


@pytest.mark.parametrize(("ok", "state", "text"), [
    (True, RefreshState.UPDATED, "Updated just now"),
    (False, RefreshState.CHECKED, "Checked just now"),
])
def test_the_answer_decides_the_words_and_the_gap_still_holds(
    ok: bool, state: RefreshState, text: str
) -> None:
    pressed = RefreshDebounce().press(100.0)
    assert pressed is not None
    answered = pressed.answered(ok)
    assert answered.state(101.0) is state and refresh_text(state) == text
    assert answered.press(110.0) is None  # a failed request reached the server too
    assert answered.answered(not ok) == answered  # only the first answer counts
    assert refresh_text(RefreshState.UPDATING) == "Updating…"
    assert refresh_text(RefreshState.READY) is None  # each surface's own label


def test_a_refused_press_sent_nothing_so_the_next_may_ask() -> None:
    pressed = RefreshDebounce().press(100.0)
    assert pressed is not None
    assert pressed.refused().press(100.5) is not None


def test_the_words_change_by_themselves_at_the_gaps_end() -> None:
    pressed = RefreshDebounce().press(100.0)
    assert pressed is not None
    assert pressed.changes_in(110.0) == pytest.approx(20.0)
    assert pressed.changes_in(130.0) is None
    assert RefreshDebounce().changes_in(0.0) is None
    assert RefreshDebounce().answered(True) == RefreshDebounce()  # no press: nothing to answer


@given(st.lists(st.floats(min_value=0, max_value=600, allow_nan=False), max_size=60),
       st.lists(st.booleans(), max_size=60))
def test_never_two_requests_within_the_gap(times: list[float], answers: list[bool]) -> None:
    d, sent = RefreshDebounce(), []
    for i, now in enumerate(sorted(times)):
        pressed = d.press(now)
        if pressed is not None:
            sent.append(now)
            d = pressed
        if i < len(answers):
            d = d.answered(answers[i])
    assert all(b - a >= REFRESH_GAP_S for a, b in itertools.pairwise(sent))
