"""Newer response fields (issue #18 item 5), on the real-world fixtures of fake/samples.py.

A locked window (`locked_reason`) shows as locked with its reason on every surface; money honours
`decimal_places` / the spend block's exponent; an unknown non-null window with a utilization is
listed like an unknown limit; a per-model cap gets the weekly thresholds as alerts and is shown
wherever it binds before the weekly limit, even with model limits switched off.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.core.alerts import AlertMemory, AlertSettings, evaluate
from claude_pulse.core.format import money
from claude_pulse.core.report import status_json, status_text
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.statusline import format_line
from claude_pulse.core.usage import ExtraUsage, parse_usage
from claude_pulse.core.viewmodel import deep_dive_view, tray_view
from claude_pulse.fake import samples
from claude_pulse.fake.anthropic import FakeAnthropic
from support.fixtures_server import seed_credentials

UTC = timezone.utc
NOW = datetime(2026, 9, 7, 14, 0, tzinfo=UTC)  # the SEPT_2026 sample's session ends 16:30


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))


def locked(reason: Any = "spend_limit_reached") -> dict[str, Any]:
    raw = copy.deepcopy(samples.SEPT_2026)
    raw["five_hour"]["locked_reason"] = reason
    return raw


def binding(now: datetime = NOW, fable: float = 100.0) -> dict[str, Any]:
    raw = copy.deepcopy(samples.BINDING_FABLE)
    reset = (now + timedelta(days=3)).isoformat()
    for item in raw["limits"]:
        item["resets_at"] = reset
    raw["limits"][2]["percent"] = fable
    return raw


def snap(raw: dict[str, Any], now: datetime = NOW) -> Snapshot:
    return Snapshot(now - timedelta(minutes=1), parse_usage(raw), raw)


# ---- locked windows ----


@pytest.mark.parametrize(("reason", "text"), [
    ("spend_limit_reached", "spend limit reached"),
    ("Your organization paused usage.", "Your organization paused usage."),
    ({"type": "org_paused", "message": "Paused by your admin"}, "Paused by your admin"),
    ({"type": "org_paused"}, "org paused"),
    (True, "locked"),
    ("   ", "locked"),
    (None, None),
])
def test_locked_reason_is_words(reason: Any, text: str | None) -> None:
    usage = parse_usage(locked(reason))
    assert usage.session is not None and usage.session.locked_reason == text
    assert usage.weekly is not None and usage.weekly.locked_reason is None


def test_a_locked_window_says_so_on_every_surface() -> None:
    usage = parse_usage(locked())
    status = AppStatus(Phase.OK, snap(locked()))
    data = status_json(usage, NOW, NOW)
    assert data["session"]["locked_reason"] == "spend limit reached"
    assert data["weekly"]["locked_reason"] is None
    text = status_text(usage, NOW, NOW, tz=UTC)
    assert "51%  locked (spend limit reached) · resets in 2h 30m (16:30)" in text
    assert format_line(usage, NOW).startswith("5h 51% locked · resets 2h30m")
    tray = tray_view(status, NOW, tz=UTC)
    assert "Session 51% · locked (spend limit reached) · resets in 2h 30m" in tray.tooltip_lines
    assert tray.menu_lines[0].startswith("Session 51% · locked (spend limit reached)")
    calm = tray_view(AppStatus(Phase.OK, snap(samples.SEPT_2026)), NOW, tz=UTC)
    assert tray.level != calm.level  # 51 % would be calm; locked is critical
    view = deep_dive_view(status, NOW, alerts_enabled=True, show_model_limits=False, tz=UTC)
    assert view.session.resets_text == "Locked"  # in the ring; the reason under it
    assert view.session.forecast_text == "Locked (spend limit reached) · resets in 2h 30m"
    week = parse_usage({"seven_day": {"utilization": 9.0, "locked_reason": "weekly_cap",
                                      "resets_at": (NOW + timedelta(days=2)).isoformat()}})
    weekly_view = deep_dive_view(AppStatus(Phase.OK, Snapshot(NOW, week, {})), NOW,
                                 alerts_enabled=True, show_model_limits=False)
    assert weekly_view.weekly.pill_text == "Locked"


def test_status_json_carries_locked_reason_from_the_server(fake_server: FakeAnthropic,
                                                            fake_config: Path,
                                                            pulse_home: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    raw = locked()
    now = datetime.now(UTC)
    raw["five_hour"]["resets_at"] = (now + timedelta(hours=2)).isoformat()
    raw["seven_day"]["resets_at"] = (now + timedelta(days=3)).isoformat()
    fake_server.usage = raw
    out = cli("status", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["session"]["locked_reason"] == "spend limit reached"
    assert data["weekly"]["locked_reason"] is None
    assert "locked (spend limit reached)" in cli("status").stdout


# ---- money ----


def test_money_honours_decimal_places() -> None:
    assert money(40843, "USD") == "$408.43"
    assert money(408, "JPY", 0) == "¥408"
    assert money(40843, "KWD", 3) == "40.843 KWD"
    eur = parse_usage(samples.EUR_OVER_CAP)
    assert "€40.01  of €40.00" in status_text(eur, NOW, NOW, tz=UTC)
    jpy = parse_usage({"extra_usage": {"is_enabled": True, "used_credits": 1200,
                                       "monthly_limit": 5000, "currency": "JPY",
                                       "decimal_places": 0}})
    view = deep_dive_view(AppStatus(Phase.OK, Snapshot(NOW, jpy, {})), NOW,
                          alerts_enabled=True, show_model_limits=False)
    assert view.extra_usage_text == "Extra usage ¥1,200 of ¥5,000"
    assert status_json(jpy, NOW, NOW)["extra_usage"]["decimal_places"] == 0


def test_the_spend_blocks_exponent_when_extra_usage_is_silent() -> None:
    spend_only = {"spend": {"used": {"amount_minor": 12345, "currency": "KWD", "exponent": 3},
                            "limit": {"amount_minor": 50000, "currency": "KWD", "exponent": 3},
                            "enabled": True}}
    extra = parse_usage(spend_only).extra
    assert extra is not None
    assert (extra.used_cents, extra.monthly_limit_cents, extra.decimal_places,
            extra.currency, extra.enabled) == (12345.0, 50000.0, 3, "KWD", True)
    bogus = {"spend": {"used": {"amount_minor": "lots", "exponent": 99}}}
    assert parse_usage(bogus).extra == ExtraUsage(enabled=False, used_cents=None,
                                                  monthly_limit_cents=None, utilization=None,
                                                  currency="USD", decimal_places=2)


# ---- unknown windows ----


def test_an_unknown_window_with_a_number_is_listed_like_an_unknown_limit() -> None:
    usage = parse_usage(samples.SEPT_2026)
    nimbus = [lim for lim in usage.limits if lim.id == "nimbus_quill"]
    assert [(lim.label, lim.utilization) for lim in nimbus] == [("Nimbus quill", 0.0)]
    assert "Nimbus quill" in status_text(usage, NOW, NOW, tz=UTC)
    # Null codename windows, and objects without a utilization, stay ignored.
    other = parse_usage({"copper_kite": None, "juniper_tide": {"resets_at": None},
                         "seven_day_omelette": {"utilization": 7, "resets_at": None}})
    assert [(lim.id, lim.label) for lim in other.limits] == [
        ("seven_day_omelette", "Omelette (weekly)")]


# ---- per-model limits ----


def alerts_for(raw: dict[str, Any], memory: AlertMemory, now: datetime = NOW) -> tuple[
        list[str], AlertMemory]:
    found, memory = evaluate(parse_usage(raw), memory, AlertSettings(), now)
    return [a.title for a in found], AlertMemory.from_json(json.loads(json.dumps(
        memory.to_json())))


def test_a_per_model_limit_gets_the_weekly_thresholds_once() -> None:
    memory = AlertMemory()
    titles, memory = alerts_for(binding(fable=91.0), memory)
    assert "You've used 90% of your weekly Fable limit" in titles
    titles, memory = alerts_for(binding(fable=92.0), memory)
    assert titles == []  # remembered (also across the JSON round trip)
    titles, memory = alerts_for(binding(fable=100.0), memory)
    assert titles == ["Critical: Almost at weekly Fable limit"]  # 95, the top threshold
    # The cap's week ends; a new one at 5 % says capacity is back.
    later = NOW + timedelta(days=3, minutes=5)
    titles, memory = alerts_for(binding(later, fable=5.0), memory, later)
    assert titles[0] == "Weekly Fable limit cleared – Full capacity restored"


def test_a_per_model_limit_missing_from_one_answer_does_not_fire_again() -> None:
    titles, memory = alerts_for(binding(fable=91.0), AlertMemory())
    assert "You've used 90% of your weekly Fable limit" in titles
    week_only = {"seven_day": {"utilization": 61.0,
                               "resets_at": (NOW + timedelta(days=3)).isoformat()}}
    titles, memory = alerts_for(week_only, memory)
    assert not any("Fable" in t for t in titles)
    titles, memory = alerts_for(binding(fable=91.0), memory)
    assert titles == []


def test_the_binding_limit_is_shown_even_with_model_limits_off() -> None:
    raw = binding()
    usage = parse_usage(raw)
    top = usage.binding_limit()
    assert top is not None and top.model == "Fable"
    status = AppStatus(Phase.OK, snap(raw))
    view = deep_dive_view(status, NOW, alerts_enabled=True, show_model_limits=False, tz=UTC)
    assert [(row.label, row.percent_text) for row in view.limits] == [("Fable (weekly)", "100%")]
    tray = tray_view(status, NOW, tz=UTC)
    assert "Fable (weekly) 100%" in tray.tooltip_lines
    assert "Fable 100%" in tray.menu_lines
    assert format_line(usage, NOW).endswith("7d 61% ▲ · Fable 100%")
    assert "binds before the weekly limit" in status_text(usage, NOW, NOW, tz=UTC)
    assert [lim["binding"] for lim in status_json(usage, NOW, NOW)["limits"]] == [
        False, False, True]


def test_a_per_model_limit_below_the_week_stays_in_its_place() -> None:
    usage = parse_usage(binding(fable=40.0))
    assert usage.binding_limit() is None
    status = AppStatus(Phase.OK, snap(binding(fable=40.0)))
    assert deep_dive_view(status, NOW, alerts_enabled=True, show_model_limits=False).limits == ()
    assert "Fable" not in format_line(usage, NOW)
    assert not any("Fable" in line for line in tray_view(status, NOW).tooltip_lines)
