"""The poller's decisions, one scenario per row of the error table (spec §6, design.md §2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.core import polling
from claude_pulse.core.polling import (
    CancelTimer,
    Fetch,
    FetchFailed,
    FetchOk,
    NotifyReauth,
    PollModel,
    PollPolicy,
    RefreshNow,
    Refused,
    ScheduleAt,
    Start,
    Timer,
    WindowVisible,
)
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import parse_usage
from claude_pulse.errors import (
    BadResponse,
    BudgetExhausted,
    CooldownActive,
    CredentialsError,
    NetworkError,
    NotLoggedIn,
    ReauthRequired,
    ServerError,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
POLICY = PollPolicy(base_interval_s=60)
# A poll on schedule may take another process's answer from the last half interval; Refresh now
# and a login always ask the server (`Fetch()`).
SCHEDULED = Fetch(share_within_s=30.0)


def snap(session: float = 42.0, weekly: float = 68.0, at: datetime = NOW) -> Snapshot:
    raw = {
        "five_hour": {"utilization": session, "resets_at": "2026-11-28T15:00:00+00:00"},
        "seven_day": {"utilization": weekly, "resets_at": "2026-12-01T04:00:00+00:00"},
    }
    return Snapshot(at, parse_usage(raw), raw)


def polling_ok(at: datetime = NOW, **kw: float) -> PollModel:
    s = snap(at=at, **kw)
    return PollModel(AppStatus(Phase.OK, s, at + timedelta(seconds=60)), unchanged_since=at)


def run(model: PollModel, event: polling.Event, now: datetime = NOW):
    return polling.step(model, event, now, POLICY)


# ---- start-up ----

@pytest.mark.parametrize(
    ("event", "phase", "effects"),
    [
        pytest.param(Start(logged_in=False), Phase.SIGNED_OUT, [], id="no-credentials"),
        pytest.param(Start(logged_in=True), Phase.LOADING, [SCHEDULED], id="logged-in-no-cache"),
        pytest.param(
            Start(logged_in=True, snapshot=snap(at=NOW - timedelta(seconds=20))),
            Phase.OK,
            [ScheduleAt(NOW + timedelta(seconds=40))],
            id="fresh-cache-from-another-process-no-fetch",
        ),
        pytest.param(
            Start(logged_in=True, snapshot=snap(at=NOW - timedelta(minutes=5))),
            Phase.LOADING,
            [SCHEDULED],
            id="old-cache-fetches",
        ),
        pytest.param(
            Start(logged_in=True, cooldown_until=NOW + timedelta(minutes=4)),
            Phase.RATE_LIMITED,
            [ScheduleAt(NOW + timedelta(minutes=4))],
            id="shared-cooldown-respected-at-start",
        ),
    ],
)
def test_start(event: Start, phase: Phase, effects: list[polling.Effect]) -> None:
    model, got = run(PollModel(), event)
    assert model.status.phase is phase
    assert got == effects


# ---- the error table ----

def fetching() -> PollModel:
    model, _ = run(polling_ok(), Timer())
    assert model.in_flight
    return model


@pytest.mark.parametrize(
    ("error", "phase", "delay_s", "notify"),
    [
        pytest.param(CooldownActive("429", NOW + timedelta(seconds=300)), Phase.RATE_LIMITED,
                     300, False, id="429-cooldown-until-gate-says"),
        pytest.param(ServerError("503", 503), Phase.SERVER_ERROR, 30, False, id="5xx-first-retry"),
        pytest.param(BadResponse("truncated"), Phase.SERVER_ERROR, 30, False, id="bad-body"),
        pytest.param(NetworkError("dns", "dns"), Phase.OFFLINE, 30, False, id="offline"),
        pytest.param(ReauthRequired("invalid_grant"), Phase.REAUTH, None, True,
                     id="refresh-rejected-log-in-again"),
        pytest.param(NotLoggedIn(), Phase.SIGNED_OUT, None, False, id="credentials-gone"),
        pytest.param(CredentialsError("corrupt"), Phase.SIGNED_OUT, None, False,
                     id="credentials-corrupt"),
    ],
)
def test_failures(error, phase: Phase, delay_s: float | None, notify: bool) -> None:
    model, effects = run(fetching(), FetchFailed(error, jitter_draw=0.5))
    assert model.status.phase is phase
    assert not model.in_flight
    if delay_s is None:
        assert CancelTimer() in effects
        assert model.status.next_try is None
    else:
        assert effects[0] == ScheduleAt(NOW + timedelta(seconds=delay_s))
    assert (NotifyReauth(str(error)) in effects) is notify
    if phase not in (Phase.SIGNED_OUT,):
        # The last good numbers stay on screen, marked stale.
        assert model.status.snapshot is not None
        assert model.status.is_stale


def test_server_errors_back_off_exponentially_with_cap_then_recover() -> None:
    model, now, delays = fetching(), NOW, []
    for _ in range(8):
        model, effects = polling.step(model, FetchFailed(ServerError("500", 500), 0.5), now,
                                      POLICY)
        (sched,) = [e for e in effects if isinstance(e, ScheduleAt)]
        delays.append((sched.when - now).total_seconds())
        now = sched.when
        model, _ = polling.step(model, Timer(), now, POLICY)
    assert delays == [30, 60, 120, 240, 480, 900, 900, 900]
    model, effects = polling.step(model, FetchOk(snap(at=now)), now, POLICY)
    assert model.status.phase is Phase.OK and model.failures == 0
    assert effects == [ScheduleAt(now + timedelta(seconds=60))]


@pytest.mark.parametrize(
    ("draw", "expected"),
    [pytest.param(0.0, 24.0, id="low"), pytest.param(0.5, 30.0, id="mid"),
     pytest.param(0.999999, 36.0, id="high")],
)
def test_jitter_stays_within_20_percent(draw: float, expected: float) -> None:
    assert POLICY.failure_delay(False, 1, draw) == pytest.approx(expected, abs=0.01)


def test_offline_retries_calmly_and_returns_to_normal_on_success() -> None:
    model, now, delays = fetching(), NOW, []
    for _ in range(6):
        model, effects = polling.step(model, FetchFailed(NetworkError("x", "refused")), now,
                                      POLICY)
        delays.append((effects[0].when - now).total_seconds())
        now = effects[0].when
        model, effects = polling.step(model, Timer(), now, POLICY)
        assert effects == [SCHEDULED]
    assert delays == [30, 60, 120, 300, 300, 300]
    assert model.status.phase is Phase.OFFLINE
    model, _ = polling.step(model, FetchOk(snap(at=now)), now, POLICY)
    assert model.status.phase is Phase.OK


def test_refresh_now_during_cooldown_is_refused_with_next_try() -> None:
    until = NOW + timedelta(minutes=5)
    model, _ = run(fetching(), FetchFailed(CooldownActive("429", until)))
    model2, effects = run(model, RefreshNow(), NOW + timedelta(minutes=1))
    assert model2 == model
    assert len(effects) == 1 and isinstance(effects[0], Refused)
    assert until.astimezone().strftime("%H:%M") in effects[0].message
    # After the cooldown a refresh goes through.
    _, effects = run(model, RefreshNow(), until + timedelta(seconds=1))
    assert effects == [Fetch()]


def test_refresh_now_polls_at_once_when_ok_and_not_twice_while_in_flight() -> None:
    model, effects = run(polling_ok(), RefreshNow())
    assert effects == [Fetch()]
    _, effects = run(model, RefreshNow())
    assert effects == []


def test_timer_does_nothing_while_signed_out_or_reauth() -> None:
    for phase in (Phase.SIGNED_OUT, Phase.REAUTH, Phase.LOGGING_IN, Phase.LOGIN_FAILED):
        model = PollModel(AppStatus(phase))
        assert run(model, Timer()) == (model, [])


def test_reauth_notifies_once() -> None:
    model, effects = run(fetching(), FetchFailed(ReauthRequired("x")))
    assert any(isinstance(e, NotifyReauth) for e in effects)
    model = replace(model, in_flight=True)
    _, effects = run(model, FetchFailed(ReauthRequired("x")))
    assert not any(isinstance(e, NotifyReauth) for e in effects)


# ---- gentle polling: stretch and snap back ----

def test_interval_stretches_when_usage_is_still_and_snaps_back_when_it_moves() -> None:
    policy = PollPolicy()  # the defaults: 180 s, stretched to 360 s and then 900 s
    model, now, delays = polling_ok(), NOW, []
    while now - NOW <= timedelta(minutes=45):
        model, _ = polling.step(model, Timer(), now, policy)
        model, effects = polling.step(model, FetchOk(snap(at=now)), now, policy)
        delays.append(int((effects[0].when - now).total_seconds()))
        now = effects[0].when
    assert delays[0] == 180
    assert 360 in delays and delays[-1] == 900
    model, _ = polling.step(model, Timer(), now, policy)
    model, effects = polling.step(model, FetchOk(snap(session=43.0, at=now)), now, policy)
    assert effects == [ScheduleAt(now + timedelta(seconds=180))]


def test_opening_the_window_snaps_a_stretched_interval_back() -> None:
    fetched = NOW - timedelta(seconds=90)
    model = PollModel(AppStatus(Phase.OK, snap(at=fetched), fetched + timedelta(seconds=300)),
                      unchanged_since=NOW - timedelta(hours=1))
    model, effects = run(model, WindowVisible(True))
    assert effects == [SCHEDULED]
    model = PollModel(AppStatus(Phase.OK, snap(at=NOW), NOW + timedelta(seconds=300)),
                      unchanged_since=NOW - timedelta(hours=1))
    model, effects = run(model, WindowVisible(True))
    assert effects == [ScheduleAt(NOW + timedelta(seconds=60))]
    # While visible, success keeps the base interval even though nothing moves.
    model, _ = run(model, Timer())
    _, effects = run(model, FetchOk(snap(at=NOW)))
    assert effects == [ScheduleAt(NOW + timedelta(seconds=60))]


@pytest.mark.parametrize(
    ("base", "idle_min", "expected"),
    [
        pytest.param(180, 5, 180, id="busy"), pytest.param(180, 15, 360, id="idle"),
        pytest.param(180, 45, 900, id="deep-idle"), pytest.param(60, 15, 120, id="base60-idle"),
        pytest.param(60, 45, 900, id="base60-deep-idle"),
        pytest.param(3600, 45, 3600, id="long-base-never-shrinks"),
        pytest.param(600, 15, 900, id="stretch-capped"),
    ],
)
def test_stretch_rule(base: float, idle_min: float, expected: float) -> None:
    """The old rule (60 s base: 120 s, then 300 s) scaled to the 180 s base: 360 s, 900 s."""
    policy = PollPolicy(base_interval_s=base)
    assert policy.success_delay(timedelta(minutes=idle_min), False) == expected


@pytest.mark.parametrize(
    ("draw", "expected"),
    [pytest.param(0.0, 162.0, id="low"), pytest.param(0.5, 180.0, id="mid"),
     pytest.param(0.999999, 198.0, id="high")],
)
def test_polls_are_jittered_10_percent_window_open_or_not(draw: float, expected: float) -> None:
    model = replace(polling_ok(), in_flight=True, window_visible=True)
    for visible in (True, False):
        model = replace(model, window_visible=visible)
        _, effects = polling.step(model, FetchOk(snap(), jitter_draw=draw), NOW, PollPolicy())
        (when,) = (e.when for e in effects if isinstance(e, ScheduleAt))
        assert (when - NOW).total_seconds() == pytest.approx(expected, abs=0.01)


# ---- the shared hourly budget ----

def test_the_next_poll_waits_for_room_in_the_budget() -> None:
    room = NOW + timedelta(minutes=7)  # the gate: the hour's budget is spent until then
    model, effects = run(fetching(), FetchOk(snap(), not_before=room))
    assert effects == [ScheduleAt(room)] and model.status.next_try == room
    # Room already: the interval decides.
    _, effects = run(fetching(), FetchOk(snap(), not_before=NOW))
    assert effects == [ScheduleAt(NOW + timedelta(seconds=60))]
    # A retry after a server error waits for room too.
    _, effects = run(fetching(), FetchFailed(ServerError("503", 503), not_before=room))
    assert effects == [ScheduleAt(room)]


def test_a_poll_on_schedule_may_share_and_plans_from_when_the_numbers_were_fetched() -> None:
    model, effects = run(polling_ok(), Timer())
    assert effects == [SCHEDULED]
    # The status line had fetched 20 s earlier: the tray took that answer, no request.
    _, effects = run(model, FetchOk(snap(at=NOW - timedelta(seconds=20))))
    assert effects == [ScheduleAt(NOW + timedelta(seconds=40))]
    # Refresh now asks the server itself.
    assert run(polling_ok(), RefreshNow())[1] == [Fetch()]


def test_a_poll_the_budget_turns_away_moves_quietly_when_room_comes_soon() -> None:
    until = NOW + timedelta(seconds=50)  # within the interval (60 s): numbers stay recent
    model, effects = run(fetching(), FetchFailed(BudgetExhausted("budget", until)))
    assert model.status.phase is Phase.OK and model.status.message is None
    assert model.status.snapshot is not None and effects == [ScheduleAt(until)]


def test_a_budget_spent_for_long_says_so_instead_of_showing_old_numbers_as_fresh() -> None:
    until = NOW + timedelta(minutes=40)
    model, effects = run(fetching(), FetchFailed(BudgetExhausted(
        "request budget (20 per hour) used up; next request at 12:40", until)))
    assert model.status.phase is Phase.RATE_LIMITED and model.status.is_stale
    assert "request budget" in (model.status.message or "") and effects == [ScheduleAt(until)]


def test_the_budget_spent_before_the_first_numbers_shows_when_the_next_request_goes() -> None:
    until = NOW + timedelta(minutes=9)
    loading, _ = run(PollModel(), Start(logged_in=True))
    model, effects = run(loading, FetchFailed(
        BudgetExhausted("request budget (20 per hour) used up; next request at 12:09", until)))
    assert model.status.phase is Phase.RATE_LIMITED and model.status.next_try == until
    assert "request budget" in (model.status.message or "") and effects == [ScheduleAt(until)]


def test_refresh_now_with_the_budget_spent_sends_nothing_and_says_when() -> None:
    shown = polling_ok(at=NOW - timedelta(minutes=3))
    refusal = BudgetExhausted("request budget (20 per hour) used up; next request at 12:09",
                              NOW + timedelta(minutes=9))
    model, effects = run(shown, RefreshNow(refusal))
    assert model.status.phase is Phase.RATE_LIMITED and model.status.is_stale
    assert model.status.snapshot == shown.status.snapshot
    assert effects == [ScheduleAt(refusal.until),
                       Refused("Request budget (20 per hour) used up; next request at 12:09 "
                               "(showing numbers from 3 min ago)")]
    # Room again within an interval: the numbers stay as they are, the poll moves there.
    soon = BudgetExhausted("budget", NOW + timedelta(seconds=30))
    model, effects = run(shown, RefreshNow(soon))
    assert model.status.phase is Phase.OK and model.status.next_try == soon.until
    assert effects[0] == ScheduleAt(soon.until) and isinstance(effects[1], Refused)
    # Once the gate has room again, Refresh now polls.
    _, effects = run(shown, RefreshNow(None))
    assert effects == [Fetch()]


# ---- login ----

def test_login_cycle() -> None:
    model, effects = run(PollModel(), polling.LoginStarted())
    assert model.status.phase is Phase.LOGGING_IN and effects == [CancelTimer()]
    model, _ = run(model, polling.LoginFailed("No answer from the browser within 300 s"))
    assert model.status.phase is Phase.LOGIN_FAILED
    assert "300 s" in (model.status.message or "")
    model, effects = run(model, polling.LoggedIn("a@example.com"))
    assert model.status.phase is Phase.LOADING and effects == [Fetch()]
    assert model.status.account == "a@example.com"
    model, effects = run(model, polling.LoggedOut())
    assert model.status.phase is Phase.SIGNED_OUT and effects == [CancelTimer()]


# ---- a changed poll interval ----

@pytest.mark.parametrize(
    ("model", "base_s", "now_s", "effects"),
    [
        pytest.param(polling_ok(), 300, 10, [ScheduleAt(NOW + timedelta(seconds=300))],
                     id="longer-moves-the-armed-timer-later"),
        pytest.param(polling_ok(), 30, 10, [ScheduleAt(NOW + timedelta(seconds=30))],
                     id="shorter-moves-it-earlier"),
        pytest.param(polling_ok(), 30, 45, [Fetch(share_within_s=15.0)], id="overdue-fetches-now"),
        pytest.param(polling_ok(), 60, 10, [], id="same-interval-nothing"),
        pytest.param(replace(polling_ok(), in_flight=True), 300, 10, [], id="in-flight"),
        pytest.param(PollModel(AppStatus(Phase.OFFLINE, snap(), NOW + timedelta(seconds=30)),
                               failures=1), 300, 10, [], id="back-off-keeps-its-time"),
        pytest.param(PollModel(), 300, 10, [], id="signed-out"),
    ],
)
def test_settings_changed_replans_the_next_poll(model: PollModel, base_s: float, now_s: float,
                                                effects: list[polling.Effect]) -> None:
    new, got = polling.step(model, polling.SettingsChanged(), NOW + timedelta(seconds=now_s),
                            PollPolicy(base_interval_s=base_s))
    assert got == effects
    if effects and isinstance(effects[0], ScheduleAt):
        assert new.status.next_try == effects[0].when
