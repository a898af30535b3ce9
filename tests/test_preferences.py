"""The Preferences window: the form's rules (no display), the window on Xvfb driven by the
keyboard, and the issue-12 "Done when": a threshold, the poll interval and the User-Agent changed
in the window — and the same keys edited in config.json while the app runs — take effect without a
restart, as the fake server sees in the requests it receives.
"""

from __future__ import annotations

import itertools
import json
import tkinter as tk
from pathlib import Path
from typing import Any

import pytest

from claude_pulse import config as config_mod
from claude_pulse.config import Config
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.ui.preferences import (
    FIELDS,
    Field,
    PreferencesWindow,
    allowed_text,
    form_values,
    known_fields,
    read_form,
)
from support.fakes import RecordingNotifier
from support.fixtures_display import pump_until, settle, xdotool

# ---- the form's rules ------------------------------------------------------------------------


def test_every_field_is_a_config_key() -> None:
    shown = {f.key for f in known_fields()}
    assert {f.key for f in FIELDS} == shown
    assert "max_requests_per_hour" in shown  # the request budget (issue 18)
    # Every setting a user changes has a field (the rest are internal or have no UI meaning).
    assert set(Config().to_json()) - shown == set()


def test_a_field_for_a_key_config_does_not_know_is_left_out() -> None:
    future = Field("not_a_key_yet", "Future", "number", "Updates")
    assert known_fields([*FIELDS, future])[-1].key != "not_a_key_yet"


def test_the_form_shows_the_config() -> None:
    values = form_values(Config(weekly_notification_thresholds=(70, 85)), known_fields())
    assert values["notification_thresholds"] == "80, 90, 95"
    assert values["weekly_notification_thresholds"] == "70, 85"
    assert values["poll_interval_seconds"] == "180"
    assert values["max_requests_per_hour"] == "20"
    assert values["notifications_enabled"] is True
    assert values["clock_format"] == "24h"
    assert form_values(Config(), known_fields())["weekly_notification_thresholds"] == ""


@pytest.mark.parametrize(("key", "typed", "saved"), [
    pytest.param("poll_interval_seconds", " 120 ", 120, id="number"),
    pytest.param("poll_interval_seconds", "120.0", 120, id="number-with-point"),
    pytest.param("max_requests_per_hour", "28", 28, id="budget"),
    pytest.param("notification_thresholds", "95, 50 70", [50, 70, 95], id="percents-any-sep"),
    pytest.param("notification_thresholds", "75%", [75], id="percent-sign"),
    pytest.param("user_agent", "claude-cli/2.1 (external)", "claude-cli/2.1 (external)",
                 id="text"),
    pytest.param("usage_url", "http://127.0.0.1:8080/u", "http://127.0.0.1:8080/u",
                 id="loopback-url"),
    pytest.param("clock_format", "12h", "12h", id="choice"),
    pytest.param("pace_alerts", False, False, id="switch"),
])
def test_read_form_cleans_as_the_config_loader_does(key: str, typed: Any, saved: Any) -> None:
    fields = known_fields()
    values = {**form_values(Config(), fields), key: typed}
    changes, errors = read_form(values, Config(), fields)
    assert errors == {}
    assert changes == {key: saved}
    # One source of truth: the loader takes the saved value as it is.
    loaded = config_mod.parse({key: saved})
    assert loaded.problems == ()


@pytest.mark.parametrize(("key", "typed", "says"), [
    pytest.param("poll_interval_seconds", "5", "from 60 to 3600", id="too-fast"),
    pytest.param("poll_interval_seconds", "soon", "from 60 to 3600", id="not-a-number"),
    pytest.param("max_requests_per_hour", "0", "from 1 to 120", id="budget-zero"),
    pytest.param("notification_thresholds", "80, ninety", "percentages from 1 to 100",
                 id="percent-word"),
    pytest.param("notification_thresholds", "150", "percentages from 1 to 100", id="over-100"),
    pytest.param("user_agent", "", "printable ASCII", id="empty-ua"),
    pytest.param("user_agent", "ä-agent", "printable ASCII", id="non-ascii-ua"),
    pytest.param("token_url", "http://evil.example/token", "https://", id="plain-http"),
    pytest.param("callback_port", "80", "1024 to 65535", id="privileged-port"),
])
def test_read_form_says_what_is_allowed(key: str, typed: str, says: str) -> None:
    fields = known_fields()
    _, errors = read_form({**form_values(Config(), fields), key: typed}, Config(), fields)
    assert set(errors) == {key} and says in errors[key]
    assert errors[key] == config_mod.allowed(key)[:1].upper() + config_mod.allowed(key)[1:]


def test_a_blank_weekly_field_means_the_same_as_the_session() -> None:
    fields = known_fields()
    own = Config(weekly_notification_thresholds=(70,))
    values = {**form_values(own, fields), "weekly_notification_thresholds": "  "}
    assert read_form(values, own, fields) == ({"weekly_notification_thresholds": None}, {})


def test_unchanged_fields_are_not_saved() -> None:
    fields = known_fields()
    assert read_form(form_values(Config(), fields), Config(), fields) == ({}, {})


def test_every_typed_field_says_what_it_accepts() -> None:
    for field in known_fields():
        if field.kind in ("number", "percents", "text"):
            text = allowed_text(field)
            assert text, field.key
            assert any(ch.isdigit() for ch in text) or "https" in text or "printable" in text, \
                (field.key, text)


# ---- the window on Xvfb ----------------------------------------------------------------------


def keys(display: str, root: tk.Tk, *names: str) -> None:
    for name in names:
        xdotool(display, "key", "--clearmodifiers", name)
        settle(root, 0.1)


class Saved:
    def __init__(self, answer: str | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer = answer

    def __call__(self, changes: dict[str, Any]) -> str | None:
        self.calls.append(changes)
        return self.answer


@pytest.mark.gui
def test_the_keyboard_edits_saves_and_discards(display: str, root: tk.Tk) -> None:
    saved = Saved()
    prefs = PreferencesWindow(root, settings=Config, on_save=saved)
    try:
        prefs.show()
        pump_until(root, lambda: root.focus_get() is not None, what="the focus")
        first = root.focus_get()
        keys(display, root, "Tab")
        assert root.focus_get() is not first  # Tab moves through the fields
        entry = prefs._inputs["poll_interval_seconds"]
        assert isinstance(entry, tk.Entry)
        entry.focus_set()
        entry.delete(0, "end")
        settle(root, 0.1)
        xdotool(display, "type", "--delay", "20", "15")
        keys(display, root, "Return")
        # Refused, with the loader's words, and the window stays open.
        assert prefs.visible and saved.calls == []
        assert "from 60 to 3600" in prefs.errors()["poll_interval_seconds"]
        entry.delete(0, "end")
        xdotool(display, "type", "--delay", "20", "150")
        settle(root, 0.1)
        keys(display, root, "Return")
        pump_until(root, lambda: not prefs.visible, what="Save to close the window")
        assert saved.calls == [{"poll_interval_seconds": 150}]
        # Escape discards: what was typed is gone at the next opening.
        prefs.show()
        settle(root)
        prefs.set_value("user_agent", "typed-but-not-saved")
        keys(display, root, "Escape")
        pump_until(root, lambda: not prefs.visible, what="Escape to close the window")
        prefs.show()
        assert prefs.values()["user_agent"] == config_mod.DEFAULT_USER_AGENT
        assert len(saved.calls) == 1
    finally:
        prefs.destroy()


@pytest.mark.gui
def test_a_refused_save_stays_open_and_says_why(display: str, root: tk.Tk) -> None:
    saved = Saved("config.json cannot be read; not saving over it. Fix or delete it.")
    prefs = PreferencesWindow(root, settings=Config, on_save=saved)
    try:
        prefs.show()
        prefs.set_value("pace_alerts", False)
        assert not prefs.save()
        assert prefs.visible and "not saving over it" in prefs._status.cget("text")
    finally:
        prefs.destroy()


@pytest.mark.gui
def test_an_error_in_the_advanced_part_opens_it(display: str, root: tk.Tk) -> None:
    prefs = PreferencesWindow(root, settings=Config, on_save=Saved())
    try:
        prefs.show()
        assert not prefs._advanced_shown
        prefs.set_value("user_agent", "bad\tagent")
        assert not prefs.save()
        assert prefs._advanced_shown and "printable ASCII" in prefs.errors()["user_agent"]
        settle(root)
        assert root.focus_get() is prefs._inputs["user_agent"]
    finally:
        prefs.destroy()


# ---- Done when: changes from the window and from config.json apply without a restart ---------

# The policy reads the live poll interval, divided by this, so a 180 s interval is a 3 s one.
SCALE = 60.0
# A poll's gap is the interval ±10 % jitter plus the fetch's own time, scaled 60×: half a real
# second of it (a loaded machine) is 30 s here, still short of the next interval tested.
FETCH_SLACK_S = 0.5 * SCALE


def usage_times(server: FakeAnthropic) -> list[tuple[float, str]]:
    return [(r.at, r.headers.get("user-agent", "")) for r in server.requests_to("usage")]


@pytest.mark.gui
def test_preferences_and_hand_edits_apply_without_restart(
    display: str, pulse_home: Path, fake_server: FakeAnthropic, fake_config: Path,
    in_process_app: Any,
) -> None:
    from datetime import datetime, timedelta, timezone

    from claude_pulse.core.polling import PollPolicy
    from claude_pulse.fake.demo import MemoryAutostart
    from claude_pulse.home import Home
    from claude_pulse.wiring import Services
    from support.fixtures_app import Driver
    from support.fixtures_server import seed_credentials
    from support.helpers import wait_until

    seed_credentials(pulse_home, fake_server)
    # The hourly budget counts real time, which the scaled policy runs 60 times faster.
    config_mod.update(fake_config, max_requests_per_hour=config_mod.MAX_REQUESTS_PER_HOUR)
    now = datetime.now(timezone.utc)
    fake_server.usage = {
        "five_hour": {"utilization": 55.0, "resets_at": (now + timedelta(hours=3)).isoformat()},
        "seven_day": {"utilization": 20.0, "resets_at": (now + timedelta(days=3)).isoformat()},
    }
    notifier = RecordingNotifier()
    services = Services(
        Home.from_env(), autostart=MemoryAutostart(), notifier=notifier,
        poll_policy=lambda c: PollPolicy(base_interval_s=c.poll_interval_seconds / SCALE))
    app = in_process_app(services)

    def gaps(after: int) -> list[float]:
        times = [t for t, _ in usage_times(fake_server)][after:]
        return [round((b - a) * SCALE, 1) for a, b in itertools.pairwise(times)]

    def at_interval(gaps: list[float], interval: float) -> bool:
        return all(interval * 0.9 - 10 <= g <= interval * 1.1 + FETCH_SLACK_S for g in gaps)

    def script(d: Driver) -> None:
        wait_until(lambda: len(usage_times(fake_server)) >= 2, 15, "two polls at 180 s")
        assert at_interval(gaps(0)[:1], 180), gaps(0)
        assert notifier.sent == []  # 55 % is below every default threshold

        # 1. The Preferences window, from the tray menu entry.
        entry = d.on_main(lambda: next(e for e in app.controller.menu_entries()
                                       if e.label == "Preferences…"))
        d.on_main(entry.action)
        prefs = d.on_main(lambda: app._preferences)
        assert d.on_main(lambda: prefs.visible)
        d.on_main(lambda: prefs.set_value("poll_interval_seconds", "60"))
        d.on_main(lambda: prefs.set_value("notification_thresholds", "50"))
        d.on_main(lambda: prefs.set_value("user_agent", "prefs-agent/1"))
        window = int(xdotool(display, "search", "--name", "^Claude Pulse Preferences$")
                     .split()[0])
        xdotool(display, "windowfocus", "--sync", str(window))
        # The focus is on the first field, the Limit alerts switch: Return saves, it does not
        # also flip the switch (Tk's own binding would).
        xdotool(display, "key", "--window", str(window), "Return")
        wait_until(lambda: not d.on_main(lambda: prefs.visible), 5, "Save to close")
        saved = json.loads(fake_config.read_text(encoding="utf-8"))
        assert saved["poll_interval_seconds"] == 60 and saved["user_agent"] == "prefs-agent/1"
        assert "notifications_enabled" not in saved
        mark = len(usage_times(fake_server))
        wait_until(lambda: len(usage_times(fake_server)) >= mark + 3, 15, "polls at 60 s")
        assert at_interval(gaps(mark), 60), gaps(mark)
        assert {ua for _, ua in usage_times(fake_server)[mark:]} == {"prefs-agent/1"}
        assert [a.key for a in notifier.sent] == ["session:50"]

        # 2. The same keys edited in config.json while the app runs.
        fake_config.write_text(json.dumps({**saved, "poll_interval_seconds": 120,
                                           "user_agent": "hand-edit/2",
                                           "notification_thresholds": [54]}), encoding="utf-8")
        mark = len(usage_times(fake_server))
        wait_until(lambda: "hand-edit/2" in {ua for _, ua in usage_times(fake_server)[mark:]},
                   15, "the edit to be picked up")
        first = next(i for i, (_, ua) in enumerate(usage_times(fake_server)) if ua ==
                     "hand-edit/2")
        wait_until(lambda: len(usage_times(fake_server)) >= first + 3, 15, "polls at 120 s")
        assert at_interval(gaps(first), 120), gaps(first)
        assert [a.key for a in notifier.sent] == ["session:50", "session:54"]

    assert Driver(app).run(script, timeout=60) == 0
