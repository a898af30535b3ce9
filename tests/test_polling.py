"""The poller's decisions, one scenario per row of the error table (spec §6, design.md §2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.core import polling
from claude_pulse.core.format import clock_time
from claude_pulse.core.polling import (
    CancelTimer,
    FeedSeen,
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


def test_refresh_now_refused_during_cooldown_says_the_time_the_way_the_user_set() -> None:
    until = NOW + timedelta(minutes=5)
    model, _ = run(fetching(), FetchFailed(CooldownActive("429", until)))
    _, effects = run(model, RefreshNow(hour24=False), NOW + timedelta(minutes=1))
    assert f"next request at {clock_time(until, hour24=False)} (" in effects[0].message


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


# ---- Claude Code's feed (issue 14) ----
# POLICY: base 60 s; a full answer every 30 min while the feed is live.

FULL_EVERY = timedelta(seconds=POLICY.feed_full_every_s)
FED = Fetch(share_within_s=30.0, feed_within_s=60.0)  # a poll that takes a live feed


def api_snap(at: datetime = NOW, session: float = 42.0) -> Snapshot:
    """An answer from Anthropic with what the feed never has: a per-model limit, extra usage."""
    raw = {
        "five_hour": {"utilization": session, "resets_at": "2026-11-28T15:00:00+00:00"},
        "seven_day": {"utilization": 68.0, "resets_at": "2026-12-01T04:00:00+00:00"},
        "seven_day_opus": {"utilization": 12.0, "resets_at": "2026-12-01T04:00:00+00:00"},
        "extra_usage": {"is_enabled": True, "used_credits": 40843, "monthly_limit": 1000,
                        "utilization": 100.0},
    }
    return Snapshot(at, parse_usage(raw), raw)


def feed_snap(session: float = 50.0, at: datetime = NOW, *, weekly: float | None = 70.0,
              ) -> Snapshot:
    raw: dict[str, object] = {
        "five_hour": {"utilization": session, "resets_at": "2026-11-28T15:00:00+00:00"}}
    if weekly is not None:
        raw["seven_day"] = {"utilization": weekly, "resets_at": "2026-12-01T04:00:00+00:00"}
    return Snapshot(at, parse_usage(raw), raw, source="claude-code")


def after_full(at: datetime = NOW - timedelta(minutes=5)) -> PollModel:
    """OK after a full answer from Anthropic at `at`; the next poll planned."""
    model, _ = polling.step(fetching_at(at), FetchOk(api_snap(at)), at, POLICY)
    return model


def fetching_at(at: datetime) -> PollModel:
    model, _ = polling.step(PollModel(AppStatus(Phase.OK, snap(at=at)), unchanged_since=at),
                            Timer(), at, POLICY)
    return model


def test_a_poll_takes_a_live_feed_unless_a_full_answer_is_due() -> None:
    model = after_full(NOW)
    assert model.full_due == NOW + FULL_EVERY
    assert run(model, Timer(), NOW + timedelta(minutes=29))[1] == [FED]
    # Due: every 30 min the poll asks Anthropic itself (per-model limits, extra usage, login).
    assert run(model, Timer(), NOW + FULL_EVERY)[1] == [SCHEDULED]
    # No full answer yet (a start, a login): the first poll is a full one.
    assert run(polling_ok(), Timer())[1] == [SCHEDULED]


@pytest.mark.parametrize(
    ("fed_at", "full_at", "expected"),
    [
        pytest.param(NOW, NOW - timedelta(minutes=5), NOW + timedelta(seconds=60),
                     id="wakes-when-the-feed-would-turn-quiet"),
        pytest.param(NOW, NOW - timedelta(minutes=29, seconds=30),
                     NOW + timedelta(seconds=30), id="or-for-the-full-answer-if-sooner"),
        pytest.param(NOW - timedelta(seconds=59, milliseconds=500), NOW - timedelta(minutes=5),
                     NOW + timedelta(seconds=1), id="never-in-the-past"),
    ],
)
def test_a_feed_answer_plans_the_next_wake_up(fed_at: datetime, full_at: datetime,
                                              expected: datetime) -> None:
    model, _ = run(after_full(full_at), Timer())
    assert model.in_flight
    model, effects = run(model, FetchOk(feed_snap(at=fed_at)))
    assert effects == [ScheduleAt(expected)]
    assert model.status.phase is Phase.OK and not model.in_flight
    assert model.status.next_try == expected
    assert model.status.snapshot is not None and model.status.snapshot.source == "claude-code"


def test_a_feed_that_came_instead_of_a_due_full_answer_asks_again_after_the_spacing() -> None:
    # Another process had just asked (the shared gate's spacing), and the shared snapshot is
    # the feed's: no tight loop, the full request goes once the spacing lets it through.
    model, effects = run(after_full(NOW - FULL_EVERY), Timer())
    assert effects == [SCHEDULED]
    model, effects = run(model, FetchOk(feed_snap()))
    assert model.full_due == NOW + timedelta(seconds=30)
    assert effects == [ScheduleAt(NOW + timedelta(seconds=30))]
    assert run(model, Timer(), NOW + timedelta(seconds=30))[1] == [SCHEDULED]


def test_a_feed_never_takes_the_full_answers_limits_or_extra_usage_away() -> None:
    model, _ = run(after_full(), FeedSeen(feed_snap(55.0)))
    shown = model.status.snapshot
    assert shown is not None and shown.source == "claude-code" and shown.fetched_at == NOW
    assert shown.usage.session is not None and shown.usage.session.utilization == 55.0
    assert [lim.label for lim in shown.usage.limits] == ["Opus (weekly)"]
    assert shown.usage.extra is not None and shown.usage.extra.used_cents == 40843
    # A feed without the weekly window keeps the full answer's.
    model, _ = run(model, FeedSeen(feed_snap(56.0, NOW + timedelta(seconds=5), weekly=None)),
                   NOW + timedelta(seconds=5))
    shown = model.status.snapshot
    assert shown is not None and shown.usage.weekly is not None
    assert shown.usage.weekly.utilization == 68.0
    # The next full answer is what is shown then, limits and all.
    model, _ = run(model, Timer(), NOW + FULL_EVERY)
    model, _ = run(model, FetchOk(api_snap(NOW + FULL_EVERY, session=60.0)), NOW + FULL_EVERY)
    assert model.status.snapshot == api_snap(NOW + FULL_EVERY, session=60.0)


@pytest.mark.parametrize(
    ("model", "phase", "effects"),
    [
        pytest.param(after_full(), Phase.OK, [ScheduleAt(NOW + timedelta(seconds=61))],
                     id="ok-replans-from-the-feed"),
        pytest.param(run(after_full(), Timer())[0], Phase.OK, [],
                     id="poll-under-way-numbers-only"),
        pytest.param(PollModel(AppStatus(Phase.REAUTH, snap())), Phase.REAUTH, [],
                     id="log-in-again-keeps-showing-the-feed"),
        pytest.param(PollModel(AppStatus(Phase.SIGNED_OUT, snap())), Phase.SIGNED_OUT, [],
                     id="signed-out-keeps-showing-the-feed"),
        pytest.param(PollModel(AppStatus(Phase.RATE_LIMITED, snap(), NOW + timedelta(hours=1)),
                               full_due=NOW + timedelta(hours=1)),
                     Phase.OK, [ScheduleAt(NOW + timedelta(seconds=61))],
                     id="rate-limited-fresh-numbers-the-gate-still-holds-requests"),
        pytest.param(PollModel(AppStatus(Phase.SERVER_ERROR, snap(), NOW + timedelta(seconds=20)),
                               failures=3, full_due=NOW + timedelta(seconds=20)),
                     Phase.OK, [ScheduleAt(NOW + timedelta(seconds=20))],
                     id="server-error-the-back-off-keeps-its-time"),
    ],
)
def test_a_poke_shows_the_feed_in_every_phase(model: PollModel, phase: Phase,
                                              effects: list[polling.Effect]) -> None:
    later = NOW + timedelta(seconds=1)  # the feed, a second after the numbers shown
    new, got = run(model, FeedSeen(feed_snap(77.0, later)), later)
    assert new.status.phase is phase and got == effects
    shown = new.status.snapshot
    assert shown is not None and shown.usage.session is not None
    assert shown.usage.session.utilization == 77.0
    assert new.failures == model.failures  # a later failure backs off from where it was
    assert new.in_flight == model.in_flight


def test_a_poke_for_numbers_already_shown_changes_nothing() -> None:
    model, _ = run(after_full(), FeedSeen(feed_snap(77.0)))
    assert run(model, FeedSeen(feed_snap(77.0))) == (model, [])
    assert run(model, FeedSeen(feed_snap(70.0, NOW - timedelta(seconds=3)))) == (model, [])
    # Only the feed pokes: an answer from Anthropic read after a poke is left to the poll.
    assert run(model, FeedSeen(api_snap(NOW + timedelta(seconds=1)))) == (model, [])


def test_a_poll_answer_older_than_a_poke_keeps_the_pokes_numbers() -> None:
    model, _ = run(after_full(), Timer())
    model, _ = run(model, FeedSeen(feed_snap(80.0, NOW)))
    model, effects = run(model, FetchOk(feed_snap(79.0, NOW - timedelta(seconds=5))))
    assert effects == [ScheduleAt(NOW + timedelta(seconds=60))]
    shown = model.status.snapshot
    assert shown is not None and shown.usage.session is not None
    assert shown.usage.session.utilization == 80.0 and not model.in_flight


def test_a_start_shows_a_live_feed_at_once_and_makes_its_one_full_request() -> None:
    model, effects = run(PollModel(), Start(logged_in=True,
                                            snapshot=feed_snap(at=NOW - timedelta(seconds=10))))
    assert model.status.phase is Phase.OK and model.in_flight
    assert effects == [SCHEDULED]  # a full one: no per-model limits known yet
    model, effects = run(model, FetchOk(api_snap()))
    assert model.full_due == NOW + FULL_EVERY and effects == [ScheduleAt(NOW + POLL)]


POLL = timedelta(seconds=60)


def test_an_hour_of_pokes_asks_anthropic_only_every_thirty_minutes() -> None:
    """The decision alone, driven in time order like the tray: a full answer, then a poke every
    5 s with new numbers every 30 s; a wake-up that takes the feed is answered with it."""
    model = after_full(NOW)
    value, full_requests = 40.0, []
    wake, poke = model.status.next_try, NOW + timedelta(seconds=5)
    end = NOW + timedelta(hours=1, seconds=10)
    while poke <= end:
        if wake is not None and wake < poke:
            model, effects = polling.step(model, Timer(), wake, POLICY)
            (fetch,) = effects
            assert isinstance(fetch, Fetch)
            if fetch.feed_within_s is None:
                full_requests.append(wake)
                answer = api_snap(wake, value)
            else:
                answer = feed_snap(value, poke - timedelta(seconds=5))
            model, effects = polling.step(model, FetchOk(answer), wake, POLICY)
            (planned,) = effects
            assert isinstance(planned, ScheduleAt)
            wake = planned.when
            continue
        if (poke - NOW).total_seconds() % 30 == 0:
            value += 0.5
        model, effects = polling.step(model, FeedSeen(feed_snap(value, poke)), poke, POLICY)
        for effect in effects:
            assert isinstance(effect, ScheduleAt)
            wake = effect.when
        shown = model.status.snapshot
        assert shown is not None and shown.usage.session is not None
        assert shown.usage.session.utilization == value  # at once
        poke += timedelta(seconds=5)
    # A poke at the very moment it is due puts it a second later (no wake-up in the past).
    second = timedelta(seconds=1)
    assert full_requests == [NOW + FULL_EVERY + second, NOW + 2 * FULL_EVERY + second]


def test_when_the_feed_goes_quiet_polling_resumes_at_the_interval() -> None:
    model, _ = run(after_full(), FeedSeen(feed_snap(60.0)))
    assert model.status.next_try == NOW + POLL  # the feed snapshot turns an interval old
    model, effects = run(model, Timer(), NOW + POLL)
    assert effects == [FED]  # the driver finds no live feed and asks Anthropic
    model, effects = run(model, FetchOk(api_snap(NOW + POLL, 61.0)), NOW + POLL)
    assert effects == [ScheduleAt(NOW + 2 * POLL)]
