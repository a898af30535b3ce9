"""core/alerts: threshold, reset and pace rules as tables of polls.

Each scenario is a list of polls (time, session window, weekly window) with the alert keys that
poll must produce. Every scenario also runs with the memory sent through JSON between polls, as if
the app restarted each time, and must give the same alerts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from claude_pulse.core.alerts import (
    KIND_LOGIN_FAILED,
    KIND_PACE,
    KIND_REAUTH,
    KIND_RESET,
    KIND_THRESHOLD,
    Alert,
    AlertMemory,
    AlertSettings,
    Urgency,
    WindowMemory,
    evaluate,
    login_failed_alert,
    reauth_alert,
)
from claude_pulse.core.pace import WEEK_WINDOW
from claude_pulse.core.usage import Usage, Window

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
S1 = T0 + timedelta(hours=3)  # the current session's reset
S2 = S1 + timedelta(hours=5)  # the next session's reset
W1 = T0 + timedelta(hours=2)  # the current week's reset: 98.8% of the week elapsed (no pace noise)
W2 = W1 + WEEK_WINDOW
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
N, C = Urgency.NORMAL, Urgency.CRITICAL


@dataclass(frozen=True)
class Poll:
    at: datetime
    session: Window | None = None
    weekly: Window | None = None
    expect: tuple[str, ...] = ()


def w(utilization: float | None, resets_at: datetime | None) -> Window:
    return Window(utilization, resets_at)


def run(
    polls: list[Poll],
    settings: AlertSettings | None = None,
    restart: bool = False,
    memory: AlertMemory | None = None,
) -> tuple[list[tuple[str, ...]], AlertMemory]:
    settings = settings or AlertSettings()
    memory = memory or AlertMemory()
    seen = []
    for poll in polls:
        if restart:
            memory = AlertMemory.from_json(json.loads(json.dumps(memory.to_json())))
        alerts, memory = evaluate(Usage(poll.session, poll.weekly), memory, settings, poll.at)
        seen.append(tuple(a.key for a in alerts))
    return seen, memory


SCENARIOS = [
    pytest.param([Poll(T0, w(50, S1))], id="below-every-threshold"),
    pytest.param(
        [Poll(T0, w(50, S1)), Poll(T0 + MIN, w(82, S1), expect=("session:80",))],
        id="crossing-up-one-threshold",
    ),
    pytest.param(
        [
            Poll(T0, w(81, S1), expect=("session:80",)),
            Poll(T0 + MIN, w(91, S1), expect=("session:90",)),
            Poll(T0 + 2 * MIN, w(96, S1), expect=("session:95",)),
        ],
        id="crossing-each-threshold-in-turn",
    ),
    pytest.param(
        [
            Poll(T0, w(50, S1)),
            Poll(T0 + MIN, w(96, S1), expect=("session:95",)),
            Poll(T0 + 2 * MIN, w(97, S1)),
        ],
        id="several-at-once-only-the-highest",
    ),
    pytest.param(
        [Poll(T0, w(92, S1), expect=("session:90",)), Poll(T0 + MIN, w(93, S1))],
        id="first-poll-already-above",
    ),
    pytest.param(
        [
            Poll(T0, w(85, S1), expect=("session:80",)),
            Poll(T0 + MIN, w(86, S1)),
            Poll(T0 + HOUR, w(89, S1)),
        ],
        id="staying-above-no-repeat",
    ),
    pytest.param(
        [
            Poll(T0, w(80.5, S1), expect=("session:80",)),
            Poll(T0 + MIN, w(79.5, S1)),
            Poll(T0 + 2 * MIN, w(80.5, S1)),
        ],
        id="wobbling-around-a-threshold-once-per-window",
    ),
    pytest.param(
        [
            Poll(T0, w(85, S1), expect=("session:80",)),
            Poll(S1 + MIN, w(3, S2), expect=("session:reset",)),
            Poll(S1 + 2 * HOUR, w(83, S2), expect=("session:80",)),
        ],
        id="dropping-after-a-reset-and-crossing-again",
    ),
    pytest.param(
        [
            Poll(T0, w(85, S1), expect=("session:80",)),
            Poll(T0 + MIN, w(0, T0 + 5 * HOUR), expect=("session:reset",)),
        ],
        id="reset-seen-by-resets-at-moving-later",
    ),
    pytest.param(
        [
            Poll(T0, w(85, S1), expect=("session:80",)),
            Poll(T0 + MIN, w(85, S1 + timedelta(microseconds=431))),
            Poll(T0 + 2 * MIN, w(86, S1 - timedelta(seconds=1))),
            Poll(T0 + 3 * MIN, w(86, S1 + timedelta(minutes=29))),
            Poll(T0 + 4 * MIN, w(87, S1)),
        ],
        id="jittery-resets-at-is-the-same-window",
    ),
    pytest.param(
        [
            Poll(T0, w(85, S1), expect=("session:80",)),
            Poll(S1 + MIN, w(85, S1)),
            Poll(S1 + 2 * MIN, w(85, S1)),
            Poll(S1 + 3 * MIN, w(1, S2), expect=("session:reset",)),
        ],
        id="stale-data-past-its-reset-is-ignored",
    ),
    pytest.param(
        [Poll(T0, w(60, S1)), Poll(S1 + MIN, w(2, S2))],
        id="no-reset-alert-below-the-lowest-threshold",
    ),
    pytest.param(
        [
            Poll(T0, w(85, S1), expect=("session:80",)),
            Poll(S1 + MIN, w(0, None), expect=("session:reset",)),
            Poll(S1 + HOUR, w(4, S1 + 6 * HOUR)),
        ],
        id="reset-into-an-idle-window-without-resets-at",
    ),
    pytest.param(
        [
            Poll(T0, w(85, S1), expect=("session:80",)),
            Poll(S1 + 4 * HOUR, w(81, S2), expect=("session:80",)),
        ],
        id="no-reset-alert-when-the-new-window-is-already-high",
    ),
    pytest.param(
        [Poll(T0, w(85, S1), expect=("session:80",)), Poll(S2 + HOUR, w(1, S2 + 5 * HOUR))],
        id="no-reset-alert-for-a-reset-long-ago",
    ),
    pytest.param(
        [Poll(T0, w(104, S1), expect=("session:95",)), Poll(T0 + MIN, w(110, S1))],
        id="over-100-percent",
    ),
    pytest.param(
        [
            Poll(T0, w(None, S1)),
            Poll(T0 + MIN, w(None, None)),
            Poll(T0 + 2 * MIN, w(85, S1), expect=("session:80",)),
        ],
        id="none-utilization",
    ),
    pytest.param(
        [Poll(T0, None, None), Poll(T0 + MIN, w(81, S1), expect=("session:80",))],
        id="missing-windows",
    ),
    pytest.param(
        [
            Poll(T0, weekly=w(70, W1)),
            Poll(T0 + MIN, weekly=w(81, W1), expect=("weekly:80",)),
            Poll(T0 + 2 * MIN, weekly=w(96, W1), expect=("weekly:95",)),
        ],
        id="weekly-thresholds",
    ),
    pytest.param(
        [
            Poll(T0, weekly=w(85, W1), expect=("weekly:80",)),
            Poll(W1 + HOUR, weekly=w(1, W2), expect=("weekly:reset",)),
        ],
        id="weekly-reset",
    ),
    pytest.param(
        [Poll(T0, w(91, S1), w(82, W1), expect=("session:90", "weekly:80"))],
        id="session-and-weekly-together",
    ),
    pytest.param(
        [
            Poll(T0, w(40, S1), w(85, W1), expect=("weekly:80",)),
            Poll(W1 + MIN, w(91, S1 + 12 * HOUR), w(1, W2), expect=("weekly:reset", "session:90")),
        ],
        id="reset-alerts-come-first",
    ),
]


@pytest.mark.parametrize(
    "restart", [pytest.param(False, id="live"), pytest.param(True, id="restart")]
)
@pytest.mark.parametrize("polls", SCENARIOS)
def test_scenario(polls: list[Poll], restart: bool) -> None:
    seen, _ = run(polls, restart=restart)

    assert seen == [p.expect for p in polls]


@pytest.mark.parametrize(
    ("thresholds", "polls"),
    [
        pytest.param(
            (50, 75),
            [
                Poll(T0, w(60, S1), expect=("session:50",)),
                Poll(T0 + MIN, w(76, S1), expect=("session:75",)),
            ],
            id="lower-thresholds",
        ),
        pytest.param(
            (85,),
            [Poll(T0, w(84, S1)), Poll(T0 + MIN, w(85, S1), expect=("session:85",))],
            id="single",
        ),
        pytest.param(
            (95, 80, 95), [Poll(T0, w(96, S1), expect=("session:95",))], id="unsorted-duplicates"
        ),
        pytest.param((), [Poll(T0, w(99, S1)), Poll(S1 + MIN, w(0, S2))], id="none-configured"),
        pytest.param(
            (50,),
            [
                Poll(T0, w(55, S1), expect=("session:50",)),
                Poll(S1 + MIN, w(0, S2), expect=("session:reset",)),
            ],
            id="reset-follows-the-lowest-configured",
        ),
    ],
)
def test_custom_thresholds(thresholds: tuple[int, ...], polls: list[Poll]) -> None:
    seen, _ = run(polls, AlertSettings(thresholds=thresholds))

    assert seen == [p.expect for p in polls]


@pytest.mark.parametrize(
    ("name", "threshold", "title", "urgency"),
    [
        pytest.param("session", 80, "You've used 80% of your session limit", N, id="s80"),
        pytest.param("session", 90, "Warning: 90% of session limit used", N, id="s90"),
        pytest.param("session", 95, "Critical: Almost at session limit", C, id="s95"),
        pytest.param("weekly", 80, "You've used 80% of your weekly limit", N, id="w80"),
        pytest.param("weekly", 90, "Warning: 90% of weekly limit used", N, id="w90"),
        pytest.param("weekly", 95, "Critical: Almost at weekly limit", C, id="w95"),
        pytest.param("session", 50, "You've used 50% of your session limit", N, id="s50"),
        pytest.param("weekly", 85, "You've used 85% of your weekly limit", N, id="w85"),
        pytest.param("session", 92, "Warning: 92% of session limit used", N, id="s92"),
        pytest.param("session", 98, "Critical: 98% of session limit used", C, id="s98"),
        pytest.param("session", 100, "Critical: Session limit reached", C, id="s100"),
        pytest.param("weekly", 100, "Critical: Weekly limit reached", C, id="w100"),
    ],
)
def test_threshold_texts(name: str, threshold: int, title: str, urgency: Urgency) -> None:
    window = w(threshold, W1 if name == "weekly" else S1)
    usage = Usage(window, None) if name == "session" else Usage(None, window)

    alerts, _ = evaluate(usage, AlertMemory(), AlertSettings(thresholds=(threshold,)), T0)
    alerts = [a for a in alerts if a.kind != KIND_PACE]

    assert alerts == [
        Alert(f"{name}:{threshold}", title, alerts[0].body, urgency, KIND_THRESHOLD)
    ]


@pytest.mark.parametrize(
    ("alert", "title", "body", "urgency", "kind"),
    [
        pytest.param(
            evaluate(Usage(w(82.9, S1), None), AlertMemory(), AlertSettings(), T0)[0][0],
            "You've used 80% of your session limit",
            "82% used · resets in 3h",
            Urgency.NORMAL,
            KIND_THRESHOLD,
            id="threshold",
        ),
        pytest.param(
            evaluate(
                Usage(w(4, S2), None),
                AlertMemory(session=WindowMemory(S1, frozenset({80}))),
                AlertSettings(),
                S1 + MIN,
            )[0][0],
            "Session limit cleared – Full capacity restored",
            "4% used · resets in 4h 59m",
            Urgency.NORMAL,
            KIND_RESET,
            id="session-reset",
        ),
        pytest.param(
            evaluate(
                Usage(None, w(2, W2)),
                AlertMemory(weekly=WindowMemory(W1, frozenset({80, 90}))),
                AlertSettings(),
                W1 + MIN,
            )[0][0],
            "Weekly limit cleared – Full capacity restored",
            "2% used · resets in 6d 23h",
            Urgency.NORMAL,
            KIND_RESET,
            id="weekly-reset",
        ),
        pytest.param(
            evaluate(
                Usage(None, w(60, T0 + WEEK_WINDOW / 2)), AlertMemory(), AlertSettings(), T0
            )[0][0],
            "You're using messages faster than usual this week",
            "Over budget: 60% used with 50% of the week elapsed",
            Urgency.NORMAL,
            KIND_PACE,
            id="pace",
        ),
        pytest.param(
            reauth_alert(),
            "Claude Pulse needs you to log in again",
            "Your sign-in is no longer accepted. Open Claude Pulse to log in.",
            Urgency.CRITICAL,
            KIND_REAUTH,
            id="reauth",
        ),
        pytest.param(
            login_failed_alert("Login timed out\n after 300 s."),
            "Claude Pulse login failed",
            "Login timed out after 300 s.",
            Urgency.NORMAL,
            KIND_LOGIN_FAILED,
            id="login-failed",
        ),
        pytest.param(
            login_failed_alert("  "),
            "Claude Pulse login failed",
            "The login did not complete.",
            Urgency.NORMAL,
            KIND_LOGIN_FAILED,
            id="login-failed-no-reason",
        ),
        pytest.param(
            login_failed_alert("x" * 500),
            "Claude Pulse login failed",
            "x" * 199 + "…",
            Urgency.NORMAL,
            KIND_LOGIN_FAILED,
            id="login-failed-long-reason",
        ),
    ],
)
def test_alert_texts(alert: Alert, title: str, body: str, urgency: Urgency, kind: str) -> None:
    assert (alert.title, alert.body, alert.urgency, alert.kind) == (title, body, urgency, kind)


def _week(used: float, elapsed: float) -> Window:
    """A weekly window `elapsed` percent through at T0."""
    return w(used, T0 + WEEK_WINDOW * (1 - elapsed / 100))


@pytest.mark.parametrize(
    ("weekly", "last", "fires"),
    [
        pytest.param(_week(60, 50), None, True, id="over-budget"),
        pytest.param(_week(40, 50), None, False, id="on-track"),
        pytest.param(_week(50, 50), None, False, id="exactly-on-budget"),
        pytest.param(_week(60, 50), T0 - timedelta(hours=23), False, id="fired-23h-ago"),
        pytest.param(_week(60, 50), T0 - timedelta(hours=24), True, id="fired-24h-ago"),
        pytest.param(_week(1, 0.5), None, False, id="first-message-after-the-reset"),
        pytest.param(_week(1.9, 1.9), T0 - 3 * HOUR, False, id="within-the-first-2-percent"),
        pytest.param(_week(5, 2.0), None, True, id="just-after-the-first-2-percent"),
        pytest.param(_week(60, 50), T0 + 3 * HOUR, True, id="clock-moved-back"),
        pytest.param(w(None, W1), None, False, id="unknown-utilization"),
        pytest.param(w(90, None), None, False, id="unknown-reset-time"),
        pytest.param(w(90, T0 - MIN), None, False, id="week-already-over"),
        pytest.param(None, None, False, id="no-weekly-window"),
    ],
)
def test_pace_warning(weekly: Window | None, last: datetime | None, fires: bool) -> None:
    memory = AlertMemory(last_pace_warning=last)
    settings = AlertSettings(thresholds=())  # pace only

    alerts, new_memory = evaluate(Usage(None, weekly), memory, settings, T0)

    assert [a.key for a in alerts] == (["weekly:pace"] if fires else [])
    assert new_memory.last_pace_warning == (T0 if fires else last)


def test_pace_warning_at_most_once_a_day() -> None:
    week = w(95, T0 + timedelta(days=4))
    polls = [Poll(T0 + n * 6 * HOUR, weekly=week) for n in range(9)]  # every 6 h for two days

    seen, _ = run(polls, AlertSettings(thresholds=()))

    assert [n for n, keys in enumerate(seen) if keys] == [0, 4, 8]


def test_disabled_shows_nothing_but_memory_advances() -> None:
    crossing = [
        Poll(T0, w(85, S1), _week(60, 50)),
        Poll(T0 + MIN, w(96, S1), _week(61, 50)),
    ]
    quiet, memory = run(crossing, AlertSettings(enabled=False))
    assert quiet == [(), ()]

    # Switched back on: the crossings and the pace warning that happened meanwhile stay silent.
    later = [Poll(T0 + 2 * MIN, w(97, S1), _week(62, 50))]
    seen, _ = run(later, AlertSettings(enabled=True), memory=memory)
    assert seen == [()]


def test_disabled_still_tracks_resets() -> None:
    _, memory = run([Poll(T0, w(85, S1))], AlertSettings(enabled=False))

    seen, _ = run([Poll(S1 + MIN, w(2, S2))], memory=memory)

    assert seen == [("session:reset",)]


def test_none_utilization_keeps_the_memory() -> None:
    _, memory = run([Poll(T0, w(85, S1), w(81, W1))])

    _, after = run([Poll(T0 + MIN, w(None, S2), w(None, W2))], memory=memory)

    assert after == memory


def test_restart_with_persisted_memory_does_not_repeat() -> None:
    _, memory = run([Poll(T0, w(91, S1), w(82, W1))])
    restored = AlertMemory.from_json(json.loads(json.dumps(memory.to_json())))

    later = Poll(T0 + HOUR, w(92, S1 + timedelta(microseconds=7)), w(83, W1))
    seen, _ = run([later], memory=restored)

    assert restored == memory
    assert seen == [()]


@pytest.mark.parametrize(
    "memory",
    [
        pytest.param(AlertMemory(), id="empty"),
        pytest.param(
            AlertMemory(
                session=WindowMemory(S1, frozenset({80, 90})),
                weekly=WindowMemory(None, frozenset()),
                last_pace_warning=T0,
            ),
            id="full",
        ),
        pytest.param(
            AlertMemory(session=WindowMemory(S1.astimezone(timezone(timedelta(hours=-5))))),
            id="other-offset",
        ),
    ],
)
def test_memory_json_round_trip(memory: AlertMemory) -> None:
    assert AlertMemory.from_json(json.loads(json.dumps(memory.to_json()))) == memory


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param([], "not a JSON object", id="not-an-object"),
        pytest.param({"version": 2}, "unknown version", id="future-version"),
        pytest.param({"version": 1, "windows": []}, "windows is not an object", id="windows-list"),
        pytest.param(
            {"version": 1, "windows": {"session": 3}}, "windows.session", id="window-number"
        ),
        pytest.param(
            {"version": 1, "windows": {"session": {"fired": ["80"]}}}, "fired", id="fired-strings"
        ),
        pytest.param(
            {"version": 1, "windows": {"session": {"fired": [True]}}}, "fired", id="fired-bools"
        ),
        pytest.param(
            {"version": 1, "windows": {"weekly": {"resets_at": "soon"}}}, "ISO 8601", id="bad-time"
        ),
        pytest.param(
            {"version": 1, "last_pace_warning": "2026-11-28T12:00:00"}, "time zone", id="naive-time"
        ),
        pytest.param({"version": 1, "last_pace_warning": 5}, "time string", id="time-number"),
    ],
)
def test_memory_from_bad_json(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AlertMemory.from_json(raw)


NOW = T0


# ---- per-window thresholds, pace on/off, time-aware (the Preferences window's settings) ----

def _week(used: float, elapsed_fraction: float) -> Window:
    return Window(used, NOW + timedelta(days=7) * (1 - elapsed_fraction))


def _session(used: float, elapsed_fraction: float) -> Window:
    return Window(used, NOW + timedelta(hours=5) * (1 - elapsed_fraction))


def test_the_weekly_window_can_have_its_own_thresholds() -> None:
    usage = Usage(_session(72.0, 0.5), _week(72.0, 0.9))
    settings = AlertSettings(thresholds=(80,), weekly_thresholds=(70,), pace=False)
    alerts, memory = evaluate(usage, AlertMemory(), settings, NOW)
    assert [a.key for a in alerts] == ["weekly:70"]
    assert memory.session is not None and memory.session.fired == frozenset()


def test_pace_alerts_can_be_switched_off() -> None:
    usage = Usage(None, _week(60.0, 0.5))
    assert [a.kind for a in evaluate(usage, AlertMemory(), AlertSettings(), NOW)[0]] == ["pace"]
    assert evaluate(usage, AlertMemory(), AlertSettings(pace=False), NOW)[0] == []


@pytest.mark.parametrize(("used", "elapsed", "keys"), [
    pytest.param(82.0, 0.9, [], id="behind-time-no-80-alert"),
    pytest.param(82.0, 0.5, ["session:80"], id="ahead-of-time-80-fires"),
    pytest.param(91.0, 0.95, ["session:90"], id="90-always-fires"),
])
def test_time_aware_alerts_hold_back_low_thresholds_while_on_pace(
        used: float, elapsed: float, keys: list[str]) -> None:
    settings = AlertSettings(thresholds=(80, 90), time_aware=True, pace=False)
    alerts, _ = evaluate(Usage(_session(used, elapsed), None), AlertMemory(), settings, NOW)
    assert [a.key for a in alerts] == keys


def test_a_held_back_threshold_fires_once_usage_gets_ahead_but_never_after_a_higher_one() -> None:
    settings = AlertSettings(thresholds=(80, 90), time_aware=True, pace=False)
    resets = NOW + timedelta(minutes=45)  # 85 % of the session gone
    first, memory = evaluate(Usage(Window(82.0, resets), None), AlertMemory(), settings, NOW)
    assert first == []
    later = NOW + timedelta(minutes=5)  # 86.7 % gone, 88 % used: now ahead
    second, memory = evaluate(Usage(Window(88.0, resets), None), memory, settings, later)
    assert [a.key for a in second] == ["session:80"]
    fresh, mem2 = evaluate(Usage(Window(91.0, resets), None), AlertMemory(), settings, NOW)
    assert [a.key for a in fresh] == ["session:90"]
    again, _ = evaluate(Usage(Window(95.0, resets), None), mem2, settings, later)
    assert again == []  # 80 counts as fired below the 90 that fired
