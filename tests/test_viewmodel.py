"""View-model texts: what the Deep Dive window and the tray say in every state."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from claude_pulse.core.forecast import Forecast
from claude_pulse.core.format import TOOLTIP_MAX
from claude_pulse.core.gauge import AMBER, BLUE, GREEN, RED, Level
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import ExtraUsage, Limit, Usage, Window, parse_usage
from claude_pulse.core.viewmodel import (
    LOG_OUT_QUESTION,
    LOGIN_CHOICE,
    Action,
    Banner,
    DeepDiveView,
    LoginOption,
    banner,
    deep_dive_view,
    login_failure_reason,
    tray_view,
)

UTC = timezone.utc
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # a Saturday
SESSION_LEFT = timedelta(hours=2, minutes=13)  # 55.7% of the 5 hours elapsed
WEEK_LEFT = timedelta(days=3, hours=4)  # 54.8% of the week elapsed


def make_snapshot(
    session: float | None = 42.0,
    weekly: float | None = 68.0,
    *,
    session_left: timedelta | None = SESSION_LEFT,
    week_left: timedelta | None = WEEK_LEFT,
    age: timedelta = timedelta(0),
    limits: tuple[Limit, ...] = (),
    extra: ExtraUsage | None = None,
) -> Snapshot:
    def window(value: float | None, left: timedelta | None) -> Window:
        return Window(value, None if left is None else NOW + left)

    usage = Usage(window(session, session_left), window(weekly, week_left), limits, extra)
    return Snapshot(NOW - age, usage, {})


def make_view(status: AppStatus, **kwargs: Any) -> DeepDiveView:
    options: dict[str, Any] = {"alerts_enabled": True, "show_model_limits": False, "tz": UTC}
    options.update(kwargs)
    return deep_dive_view(status, NOW, **options)


OPUS = Limit("weekly_scoped:Opus", "weekly_scoped", "Opus (weekly)", 12.0, NOW + WEEK_LEFT)
SESSION_LIMIT = Limit("session", "session", "Session (5h)", 42.0, NOW + SESSION_LEFT)


# --- Deep Dive: the normal face ---------------------------------------------------------------


def test_ok_view_shows_every_number() -> None:
    status = AppStatus(Phase.OK, make_snapshot(), account="ada@example.com")
    view = make_view(status, alerts_enabled=False)

    assert view.banner is None
    assert not view.stale
    assert view.account == "ada@example.com"
    assert view.alerts_enabled is False
    assert view.last_refresh_text == "From Anthropic · just now"
    s = view.session
    assert (s.percent_text, s.resets_text, s.level, s.has_data) == (
        "42%",
        "Resets in 2h 13m",
        Level.NORMAL,
        True,
    )
    assert s.usage_fraction == pytest.approx(0.42)
    assert s.elapsed_fraction == pytest.approx(167 / 300)
    w = view.weekly
    assert (w.used_text, w.elapsed_text, w.resets_text) == (
        "68% used",
        "54% of week elapsed",
        "Resets in 3d 4h",
    )
    assert (w.pill_text, w.pill_color) == ("Over budget", RED)
    assert w.elapsed_fraction == pytest.approx(92 / 168)
    assert view.limits == ()
    assert view.extra_usage_text is None


@pytest.mark.parametrize(
    ("weekly", "week_left", "pill"),
    [
        pytest.param(30.0, WEEK_LEFT, ("On track", GREEN), id="behind-time"),
        pytest.param(68.0, WEEK_LEFT, ("Over budget", RED), id="ahead-of-time"),
        pytest.param(0.0, timedelta(days=7), ("On track", GREEN), id="zero-elapsed-zero-used"),
        pytest.param(5.0, timedelta(days=7), ("Over budget", RED), id="zero-elapsed-some-used"),
        pytest.param(None, WEEK_LEFT, (None, None), id="no-utilization"),
        pytest.param(40.0, None, (None, None), id="no-reset-time"),
    ],
)
def test_weekly_pill(
    weekly: float | None,
    week_left: timedelta | None,
    pill: tuple[str | None, Any],
) -> None:
    view = make_view(AppStatus(Phase.OK, make_snapshot(weekly=weekly, week_left=week_left)))
    assert (view.weekly.pill_text, view.weekly.pill_color) == pill


def test_zero_elapsed_puts_the_marker_at_the_start() -> None:
    view = make_view(AppStatus(Phase.OK, make_snapshot(week_left=timedelta(days=7))))
    assert view.weekly.elapsed_fraction == 0.0
    assert view.weekly.elapsed_text == "0% of week elapsed"


def test_unknown_reset_time() -> None:
    view = make_view(AppStatus(Phase.OK, make_snapshot(session_left=None, week_left=None)))
    assert view.session.resets_text == "Reset time unknown"
    assert view.session.elapsed_fraction == 0.0
    assert view.weekly.elapsed_fraction is None  # no marker rather than a wrong one
    assert view.weekly.elapsed_text == "Week elapsed unknown"


def test_reset_in_the_past_says_when_it_reset() -> None:
    snap = make_snapshot(session_left=timedelta(minutes=-20), age=timedelta(minutes=30))
    view = make_view(AppStatus(Phase.OFFLINE, snap))
    assert view.session.resets_text == "Reset at 11:40"
    assert view.session.elapsed_fraction == 1.0


def test_unknown_utilization() -> None:
    view = make_view(AppStatus(Phase.OK, make_snapshot(session=None, weekly=None)))
    assert (view.session.percent_text, view.session.has_data) == ("–", False)
    assert view.session.usage_fraction == 0.0
    assert (view.weekly.used_text, view.weekly.has_data) == ("– used", False)


def test_over_100_percent_is_shown_as_sent() -> None:
    view = make_view(AppStatus(Phase.OK, make_snapshot(session=104.0, weekly=101.0)))
    assert view.session.percent_text == "104%"
    assert view.session.usage_fraction == pytest.approx(1.04)
    assert view.session.level is Level.CRITICAL
    assert view.weekly.used_text == "101% used"


@pytest.mark.parametrize(
    ("snapshot", "session_text", "weekly_text"),
    [
        pytest.param(None, "No data yet", "No data yet", id="nothing-fetched"),
        pytest.param(
            Snapshot(NOW, Usage(None, None), {}),
            "No session data",
            "No weekly data",
            id="windows-missing",
        ),
    ],
)
def test_missing_windows(snapshot: Snapshot | None, session_text: str, weekly_text: str) -> None:
    view = make_view(AppStatus(Phase.OK, snapshot))
    assert (view.session.percent_text, view.session.resets_text) == ("–", session_text)
    assert view.weekly.used_text == weekly_text
    assert view.weekly.pill_text is None
    if snapshot is None:
        assert view.last_refresh_text == "No numbers yet"


@pytest.mark.parametrize(("ago", "text"), [
    (timedelta(seconds=5), "From Anthropic · just now"),
    (timedelta(seconds=59), "From Anthropic · just now"),
    (timedelta(seconds=61), "From Anthropic · 1 min ago"),
    (timedelta(minutes=59, seconds=59), "From Anthropic · 59 min ago"),
    (timedelta(hours=2), "From Anthropic · 10:00"),
    # A clock a little behind the server's:
    (timedelta(seconds=-3), "From Anthropic · just now"),
])
def test_the_footer_says_where_the_numbers_came_from_and_how_long_ago(ago: timedelta,
                                                                      text: str) -> None:
    view = make_view(AppStatus(Phase.OK, make_snapshot(age=ago)))
    assert view.last_refresh_text == text


@pytest.mark.parametrize(("source", "ago", "text"), [
    ("claude-code", timedelta(seconds=12), "From Claude Code · just now"),
    ("claude-code", timedelta(minutes=2), "From Claude Code · 2 min ago"),
    ("api", timedelta(minutes=2), "From Anthropic · 2 min ago"),
    # A source a newer version may write is named as it is, never passed off as Anthropic.
    ("ccusage", timedelta(0), "From ccusage · just now"),
])
def test_numbers_from_claude_codes_feed_say_so(source: str, ago: timedelta, text: str) -> None:
    snap = dataclasses.replace(make_snapshot(age=ago), source=source)
    for phase in (Phase.OK, Phase.REAUTH):  # a login to renew keeps showing the feed
        assert make_view(AppStatus(phase, snap)).last_refresh_text == text


def test_times_are_local() -> None:
    plus_two = timezone(timedelta(hours=2))
    status = AppStatus(
        Phase.OFFLINE, make_snapshot(age=timedelta(minutes=12)), next_try=NOW + timedelta(minutes=5)
    )
    view = make_view(status, tz=plus_two)
    assert view.last_refresh_text == "From Anthropic · 12 min ago"
    assert view.banner is not None
    assert view.banner.detail == "Showing numbers from 12 min ago. Trying again at 14:05."


# --- Deep Dive: a face for every state --------------------------------------------------------

STALE = make_snapshot(age=timedelta(minutes=12))
NEXT = NOW + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("status", "banner"),
    [
        pytest.param(AppStatus(Phase.OK, make_snapshot()), None, id="ok"),
        pytest.param(
            AppStatus(Phase.SIGNED_OUT),
            Banner("You're not logged in",
                   "Log in with your Claude account to see your limits.", Action.LOG_IN, BLUE),
            id="signed-out",
        ),
        pytest.param(
            AppStatus(Phase.LOGGING_IN),
            Banner("Finish logging in in your browser",
                   "This window updates by itself when you are done.", None, BLUE),
            id="logging-in",
        ),
        pytest.param(
            AppStatus(Phase.LOGIN_FAILED, message="No answer from the browser within 5 minutes"),
            Banner("The login didn't finish", "No answer came back from the browser in time.",
                   Action.RETRY, AMBER),
            id="login-failed",
        ),
        pytest.param(
            AppStatus(Phase.LOGIN_FAILED),
            Banner("The login didn't finish",
                   "Something went wrong on the way back from the browser.", Action.RETRY,
                   AMBER),
            id="login-failed-no-message",
        ),
        pytest.param(
            AppStatus(Phase.LOADING),
            Banner("Loading your limits…", None, None, BLUE),
            id="loading",
        ),
        pytest.param(
            AppStatus(Phase.OFFLINE, STALE, next_try=NEXT),
            Banner("You're offline",
                   "Showing numbers from 12 min ago. Trying again at 12:05.", None, AMBER),
            id="offline",
        ),
        pytest.param(
            AppStatus(Phase.OFFLINE, next_try=NEXT),
            Banner("You're offline", "Trying again at 12:05.", None, AMBER),
            id="offline-nothing-to-show",
        ),
        pytest.param(
            AppStatus(Phase.RATE_LIMITED, STALE, next_try=NEXT),
            Banner("Anthropic asked us to slow down",
                   "Showing numbers from 12 min ago. Next update at 12:05.", None, AMBER),
            id="rate-limited",
        ),
        pytest.param(
            AppStatus(
                Phase.RATE_LIMITED, STALE, next_try=NOW + timedelta(days=1, hours=2)
            ),
            Banner("Anthropic asked us to slow down",
                   "Showing numbers from 12 min ago. Next update at Sun 14:00.", None, AMBER),
            id="rate-limited-until-tomorrow",
        ),
        pytest.param(
            AppStatus(Phase.SERVER_ERROR, STALE, next_try=NEXT, message="Server answered 503"),
            Banner(
                "Anthropic's servers are having trouble",
                "The problem is on their side. Showing numbers from 12 min ago. "
                "Trying again at 12:05.",
                None,
                AMBER,
            ),
            id="server-error",
        ),
        pytest.param(
            AppStatus(Phase.SERVER_ERROR),
            Banner("Anthropic's servers are having trouble", "The problem is on their side.",
                   None, AMBER),
            id="server-error-nothing-known",
        ),
        pytest.param(
            AppStatus(Phase.REAUTH, STALE, message="the login was refused (invalid_grant): "
                      "run `claude-pulse login`"),
            Banner("Your login has expired", "Log in again to keep seeing your limits.",
                   Action.LOG_IN, AMBER),
            id="reauth",
        ),
        pytest.param(
            AppStatus(Phase.REAUTH, STALE, message="403: the token lacks the user:profile scope"),
            Banner("Log in again", "This login is not allowed to read your usage. Logging in "
                   "again fixes it.", Action.LOG_IN, AMBER),
            id="reauth-missing-scope",
        ),
    ],
)
def test_banner_for_every_phase(status: AppStatus, banner: Banner | None) -> None:
    view = make_view(status)
    assert view.banner == banner
    assert view.phase is status.phase


TECHNICAL = ("invalid_grant", "http", "503", "403", "scope", "claude-pulse", "`", "token",
             "error", "·")


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("message", [
    None, "the login was refused (invalid_grant): run `claude-pulse login`",
    "api.anthropic.com failed to answer (usage: HTTP 503).", "Login was cancelled.",
    "Cannot listen for the login answer on 127.0.0.1: [Errno 98] Address in use",
])
def test_every_banner_is_plain_words_with_at_most_one_action(
    phase: Phase, message: str | None
) -> None:
    status = AppStatus(phase, STALE, next_try=NEXT, message=message)
    banner = make_view(status).banner
    if banner is None:
        assert phase is Phase.OK
        return
    text = f"{banner.title}\n{banner.detail or ''}".lower()
    assert not [word for word in TECHNICAL if word in text], text
    # Whole sentences; the server's trouble is amber, never the red of "your" errors.
    assert banner.detail is None or banner.detail.endswith((".", "…"))
    assert banner.accent != RED
    assert banner.action in (None, Action.LOG_IN, Action.RETRY)


@pytest.mark.parametrize("option", LOGIN_CHOICE, ids=lambda o: o.action.name)
def test_the_first_run_choice_has_no_terminal_command_beside_its_button(
    option: LoginOption
) -> None:
    # Issue 15 item 4: the sentence under a button says what it means, in words.
    text = f"{option.label}\n{option.sentence}".lower()
    assert not [word for word in TECHNICAL if word in text], text
    assert "run " not in text and option.sentence.endswith(".")


def test_the_log_out_question_says_what_it_means() -> None:
    title, detail = LOG_OUT_QUESTION
    assert title == "Log out of Claude Pulse?" and detail.endswith(".")


def test_login_failures_say_why_in_words() -> None:
    assert login_failure_reason("Login was cancelled.") == "You cancelled it."
    assert "port" in login_failure_reason("Cannot find a free port for the login answer.")
    assert "declined" in login_failure_reason("access_denied: The user denied the request")
    assert "belong" in login_failure_reason(
        "The login answer did not match this login attempt (state mismatch).")


@pytest.mark.parametrize(
    ("phase", "stale"),
    [
        pytest.param(Phase.OK, False, id="ok"),
        pytest.param(Phase.LOADING, False, id="loading"),
        pytest.param(Phase.OFFLINE, True, id="offline"),
        pytest.param(Phase.RATE_LIMITED, True, id="rate-limited"),
        pytest.param(Phase.REAUTH, True, id="reauth"),
    ],
)
def test_stale_numbers_are_marked(phase: Phase, stale: bool) -> None:
    view = make_view(AppStatus(phase, STALE))
    assert view.stale is stale
    assert view.session.percent_text == "42%"  # the last numbers stay on screen


# --- forecasts, model limits, extra usage -----------------------------------------------------


@pytest.mark.parametrize(
    ("session_forecast", "weekly_forecast", "session_line", "weekly_line"),
    [
        pytest.param(None, None, None, None, id="no-forecast"),
        pytest.param(
            Forecast(NOW + timedelta(hours=1, minutes=35), 20.0),
            Forecast(NOW + timedelta(days=2, hours=2, minutes=35), 1.0),
            "At this pace you reach 100% at 13:35",
            "At this pace you reach 100% at Mon 14:35",
            id="hits-the-limit",
        ),
        pytest.param(
            Forecast(None, 2.0),
            Forecast(None, 0.1),
            "Won't hit the limit before it resets",
            "Won't hit the limit before it resets",
            id="does-not-hit",
        ),
        pytest.param(
            Forecast(NOW + timedelta(hours=3), 9.0),
            None,
            "Won't hit the limit before it resets",
            None,
            id="hit-after-reset",
        ),
    ],
)
def test_forecast_lines(
    session_forecast: Forecast | None,
    weekly_forecast: Forecast | None,
    session_line: str | None,
    weekly_line: str | None,
) -> None:
    status = AppStatus(
        Phase.OK,
        make_snapshot(),
        session_forecast=session_forecast,
        weekly_forecast=weekly_forecast,
    )
    view = make_view(status)
    assert view.session.forecast_text == session_line
    assert view.weekly.forecast_text == weekly_line


def test_no_forecast_once_the_limit_is_reached() -> None:
    status = AppStatus(
        Phase.OK, make_snapshot(session=100.0), session_forecast=Forecast(NOW, 30.0)
    )
    assert make_view(status).session.forecast_text is None


@pytest.mark.parametrize(
    ("show", "labels"),
    [
        pytest.param(True, [("Opus (weekly)", "12%")], id="shown"),
        pytest.param(False, [], id="hidden"),
    ],
)
def test_model_limits(show: bool, labels: list[tuple[str, str]]) -> None:
    # The session limit is already the gauge: the list shows only the others.
    status = AppStatus(Phase.OK, make_snapshot(limits=(SESSION_LIMIT, OPUS)))
    view = make_view(status, show_model_limits=show)
    assert [(row.label, row.percent_text) for row in view.limits] == labels


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        pytest.param(None, None, id="none"),
        pytest.param(
            ExtraUsage(True, 40843, 1000, 100.0),
            "Extra usage $408.43 of $10.00",
            id="over-its-limit",
        ),
        pytest.param(
            ExtraUsage(True, 408, None, None), "Extra usage $4.08 · no limit", id="no-limit"
        ),
        pytest.param(
            ExtraUsage(True, 123456, 500000, 24.7, "EUR"),
            "Extra usage €1,234.56 of €5,000.00",
            id="euro",
        ),
        pytest.param(
            ExtraUsage(True, 250, 1000, 25, "CHF"),
            "Extra usage 2.50 CHF of 10.00 CHF",
            id="other-currency",
        ),
        pytest.param(ExtraUsage(False, 0, 1000, 0.0), None, id="disabled"),
    ],
)
def test_extra_usage(extra: ExtraUsage | None, text: str | None) -> None:
    view = make_view(AppStatus(Phase.OK, make_snapshot(extra=extra)))
    assert view.extra_usage_text == text


# --- tray -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text", "level", "greyed"),
    [
        pytest.param(AppStatus(Phase.OK, make_snapshot(7.0)), "7", Level.NORMAL, False, id="7"),
        pytest.param(AppStatus(Phase.OK, make_snapshot(42.0)), "42", Level.NORMAL, False, id="42"),
        pytest.param(AppStatus(Phase.OK, make_snapshot(85.0)), "85", Level.WARNING, False, id="85"),
        pytest.param(AppStatus(Phase.OK, make_snapshot(92.0)), "92", Level.HIGH, False, id="92"),
        pytest.param(
            AppStatus(Phase.OK, make_snapshot(99.9)), "99", Level.CRITICAL, False, id="99.9"
        ),
        pytest.param(
            AppStatus(Phase.OK, make_snapshot(104.0)), "104", Level.CRITICAL, False, id="over-100"
        ),
        pytest.param(AppStatus(Phase.OFFLINE, STALE), "42", Level.NORMAL, True, id="offline"),
        pytest.param(AppStatus(Phase.REAUTH, STALE), "!", Level.NORMAL, True, id="reauth"),
        pytest.param(AppStatus(Phase.SIGNED_OUT), "!", Level.NORMAL, True, id="signed-out"),
        pytest.param(AppStatus(Phase.LOGIN_FAILED), "!", Level.NORMAL, True, id="login-failed"),
        pytest.param(AppStatus(Phase.LOADING), "–", Level.NORMAL, True, id="loading"),
        pytest.param(
            AppStatus(Phase.OK, make_snapshot(None)), "–", Level.NORMAL, True, id="no-value"
        ),
    ],
)
def test_tray_icon_text(status: AppStatus, text: str, level: Level, greyed: bool) -> None:
    view = tray_view(status, NOW)
    assert (view.text, view.level, view.greyed) == (text, level, greyed)
    # "!" is the one mark of "you must act": never shown for states that only wait.
    assert view.needs_action == (text == "!")


def test_tray_view_carries_the_week_for_the_icons_bar() -> None:
    view = tray_view(AppStatus(Phase.OK, make_snapshot(42.0, 83.0)), NOW)
    assert view.week_fraction == pytest.approx(0.83)
    assert view.week_level is Level.WARNING
    assert view.week_elapsed == pytest.approx(1 - WEEK_LEFT / timedelta(days=7))
    unknown = tray_view(AppStatus(Phase.OK, make_snapshot(42.0, None)), NOW)
    assert (unknown.week_fraction, unknown.week_elapsed) == (None, None)
    passed = tray_view(AppStatus(Phase.OK, make_snapshot(week_left=timedelta(minutes=-1))), NOW)
    assert passed.week_fraction is None  # last week's number is not this week's


@pytest.mark.parametrize(
    ("status", "lines"),
    [
        pytest.param(AppStatus(Phase.OK, make_snapshot()),
                     ("Session 42% · resets 14:13", "Week 68% · over budget"), id="ok"),
        pytest.param(AppStatus(Phase.OK, make_snapshot(104.0, 30.0)),
                     ("Session 104% · resets 14:13", "Week 30% · on track"), id="over-100"),
        pytest.param(AppStatus(Phase.OFFLINE, STALE),
                     ("Session 42% · resets 14:13", "Week 68% · over budget",
                      "You're offline · numbers from 12 min ago"), id="offline"),
        pytest.param(AppStatus(Phase.OK, make_snapshot(session_left=timedelta(minutes=-5))),
                     ("Session reset at 11:55", "Week 68% · over budget"), id="reset-passed"),
        pytest.param(AppStatus(Phase.OK, make_snapshot(week_left=None)),
                     ("Session 42% · resets 14:13", "Week 68%"), id="week-reset-unknown"),
        pytest.param(AppStatus(Phase.SIGNED_OUT), ("You're not logged in",), id="signed-out"),
        pytest.param(AppStatus(Phase.REAUTH, STALE),
                     ("Session 42% · resets 14:13", "Week 68% · over budget",
                      "Your login has expired · numbers from 12 min ago"), id="reauth"),
    ],
)
def test_tray_menu_lines(status: AppStatus, lines: tuple[str, ...]) -> None:
    """The first menu lines, for trays with no tooltip (XEmbed, AppIndicator)."""
    assert tray_view(status, NOW, tz=UTC).menu_lines == lines


@pytest.mark.parametrize(
    ("status", "lines"),
    [
        pytest.param(
            AppStatus(Phase.OK, make_snapshot()),
            ("Claude Pulse", "Session 42% · resets in 2h 13m",
             "Weekly 68% · resets in 3d 4h · Over budget"),
            id="ok",
        ),
        pytest.param(
            AppStatus(Phase.OFFLINE, STALE),
            (
                "Claude Pulse",
                "Session 42% · resets in 2h 13m",
                "Weekly 68% · resets in 3d 4h · Over budget",
                "You're offline · numbers from 12 min ago",
            ),
            id="offline",
        ),
        pytest.param(
            AppStatus(Phase.OK, make_snapshot(session_left=timedelta(minutes=-5))),
            ("Claude Pulse", "Session reset at 11:55",
             "Weekly 68% · resets in 3d 4h · Over budget"),
            id="reset-passed",
        ),
        pytest.param(
            AppStatus(Phase.SIGNED_OUT), ("Claude Pulse", "You're not logged in"),
            id="signed-out"),
        pytest.param(AppStatus(Phase.LOADING), ("Claude Pulse", "Loading your limits…"),
                     id="loading"),
    ],
)
def test_tray_tooltip(status: AppStatus, lines: tuple[str, ...]) -> None:
    view = tray_view(status, NOW, tz=UTC)
    assert view.tooltip_lines == lines
    assert view.tooltip == "\n".join(lines)


def test_longest_tooltip_fits_windows() -> None:
    snap = make_snapshot(
        104.0,
        100.0,
        session_left=timedelta(hours=23, minutes=59),
        week_left=timedelta(days=6, hours=23),
        age=timedelta(days=12, hours=23, minutes=59),
    )
    view = tray_view(AppStatus(Phase.RATE_LIMITED, snap), NOW)
    assert len(view.tooltip) <= TOOLTIP_MAX
    # The title line goes first, then the numbers' age; the state's words are never cut.
    assert view.tooltip_lines == ("Session 104% · resets in 23h 59m",
                                  "Weekly 100% · resets in 6d 23h · Over budget",
                                  "Anthropic asked us to slow down")


@pytest.mark.parametrize("phase", [p for p in Phase if p is not Phase.OK])
@pytest.mark.parametrize("snap", [pytest.param(None, id="no-numbers"),
                                  pytest.param(STALE, id="stale")])
def test_the_tray_says_what_the_banner_says(phase: Phase, snap: Snapshot | None) -> None:
    """One source of wording (issue 15 item 4): the tooltip's and the menu's last line is the
    window banner's title, with the numbers' age when they are stale."""
    status = AppStatus(phase, snap, message="invalid_grant: refresh token revoked")
    said = banner(status, NOW, tz=UTC)
    assert said is not None
    line = said.title if snap is None or not status.is_stale else \
        f"{said.title} · numbers from 12 min ago"
    view = tray_view(status, NOW, tz=UTC)
    assert view.menu_lines[-1] == line
    # Windows keeps 127 characters: the age goes before the words are cut.
    assert view.tooltip_lines[-1] == line or \
        (view.tooltip_lines[-1] == said.title and len(view.tooltip) + len(line) > TOOLTIP_MAX)


def test_charts_need_two_samples_of_the_current_window() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    resets = now + timedelta(hours=2)
    raw = {"five_hour": {"utilization": 40.0, "resets_at": resets.isoformat()}}
    snap = Snapshot(now, parse_usage(raw), raw)
    before_window = (resets - timedelta(hours=6), 90.0)  # the previous window: not drawn
    one = ((now - timedelta(minutes=30), 30.0),)
    two = (*one, (now, 40.0))
    assert deep_dive_view(AppStatus(Phase.OK, snap, session_history=one), now,
                          alerts_enabled=True, show_model_limits=False).session.chart is None
    chart = deep_dive_view(AppStatus(Phase.OK, snap, session_history=(before_window, *two)), now,
                           alerts_enabled=True, show_model_limits=False).session.chart
    assert chart is not None
    assert chart.points == two
    assert (chart.start, chart.end, chart.now) == (resets - timedelta(hours=5), resets, now)
