"""Parsing the usage endpoint's answer: every real shape seen (protocol.md §3) and hostile ones."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_pulse.core.usage import Usage, parse_timestamp, parse_usage, parse_usage_body
from claude_pulse.errors import BadResponse, PulseError
from claude_pulse.fake.samples import (
    BINDING_FABLE,
    EUR_OVER_CAP,
    JULY_2026,
    MARCH_2026,
)
from claude_pulse.fake.samples import (
    SEPT_2026 as SEPT_2026_REAL,
)

UTC = timezone.utc

SPEC_2025: dict[str, Any] = {
    "five_hour": {"utilization": 8.0, "resets_at": "2025-01-11T05:17:29.000000+00:00"},
    "seven_day": {"utilization": 68.0, "resets_at": "2025-01-15T03:59:59.943679+00:00"},
    "seven_day_opus": {"utilization": 0.0, "resets_at": None},
}

SEPT_2026: dict[str, Any] = {
    "five_hour": {"utilization": 3.0, "resets_at": "2026-09-20T10:00:00Z"},
    "seven_day": {"utilization": 21.0, "resets_at": "2026-09-24T10:00:00.000Z"},
    "seven_day_breakdown": {"rows": [
        {"key": "claude_code", "display_name": "Claude Code", "percent": 100},
        {"key": "chat", "display_name": "Chat", "percent": 0}]},
}


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("payload", "session", "weekly", "limit_ids"),
    [
        pytest.param(JULY_2026, (15.0, t("2026-07-19T03:39:59.570750+00:00")),
                     (48.0, t("2026-07-23T14:59:59.570774+00:00")),
                     ["session", "weekly_all", "weekly_scoped:Fable"], id="july-2026-live"),
        pytest.param(MARCH_2026, (23.0, t("2026-03-12T18:00:00.412306+00:00")),
                     (37.0, t("2026-03-16T09:59:59.412331+00:00")),
                     ["weekly_scoped:Sonnet"], id="march-2026-legacy-sonnet"),
        pytest.param(SPEC_2025, (8.0, t("2025-01-11T05:17:29+00:00")),
                     (68.0, t("2025-01-15T03:59:59.943679+00:00")),
                     ["weekly_scoped:Opus"], id="spec-2025-opus-null-reset"),
        pytest.param(SEPT_2026, (3.0, t("2026-09-20T10:00:00+00:00")),
                     (21.0, t("2026-09-24T10:00:00+00:00")), [], id="sept-2026-Z-and-breakdown"),
        pytest.param(SEPT_2026_REAL, (51.0, t("2026-09-07T16:30:00.961652+00:00")),
                     (9.0, t("2026-09-11T14:00:00.961672+00:00")), ["session", "nimbus_quill"],
                     id="sept-2026-locked-reason-and-codenames"),
        pytest.param(EUR_OVER_CAP, (0.0, None), (90.0, t("2026-07-27T16:00:00.081713+00:00")),
                     ["session", "weekly_all", "weekly_scoped:Fable"], id="eur-over-spend-cap"),
        pytest.param(BINDING_FABLE, (2.0, None), (61.0, None),
                     ["session", "weekly_all", "weekly_scoped:Fable"], id="binding-fable-cap"),
        pytest.param({"five_hour": None, "seven_day": None}, None, None, [], id="all-null"),
        pytest.param({}, None, None, [], id="empty-object"),
        pytest.param({"five_hour": {"utilization": 104.0, "resets_at": None}},
                     (104.0, None), None, [], id="over-100-null-reset"),
        pytest.param({"five_hour": {"utilization": None, "resets_at": "2026-01-01T00:00:00"}},
                     (None, datetime(2026, 1, 1, tzinfo=UTC)), None, [], id="null-util-naive"),
        pytest.param({"seven_day": {"utilization": 5}}, None, (5.0, None), [],
                     id="missing-resets-key-int-util"),
        pytest.param(
            {"limits": [{"kind": "session", "percent": 33, "resets_at": "2026-11-28T15:00:00Z"},
                        {"kind": "weekly_all", "percent": 50, "resets_at": None}]},
            (33.0, t("2026-11-28T15:00:00+00:00")), (50.0, None), ["session", "weekly_all"],
            id="limits-only-newer-shape"),
    ],
)
def test_real_shapes(payload: dict[str, Any], session: Any, weekly: Any,
                     limit_ids: list[str]) -> None:
    usage = parse_usage(payload)
    got_session = None if usage.session is None else (usage.session.utilization,
                                                      usage.session.resets_at)
    got_weekly = None if usage.weekly is None else (usage.weekly.utilization,
                                                    usage.weekly.resets_at)
    assert got_session == session
    assert got_weekly == weekly
    assert [lim.id for lim in usage.limits] == limit_ids


def test_july_capture_details() -> None:
    usage = parse_usage(JULY_2026)
    fable = usage.limits[2]
    assert fable.label == "Fable (weekly)"
    assert fable.utilization == 81.0 and fable.active and fable.severity == "warning"
    assert usage.extra is not None
    assert usage.extra.used_cents == 40843.0 and usage.extra.monthly_limit_cents is None
    assert usage.extra.enabled and usage.extra.currency == "USD"


def test_unknown_limit_kind_is_kept_by_its_label() -> None:
    usage = parse_usage({"limits": [
        {"kind": "daily_scoped", "percent": 12, "scope": {"model": {"display_name": "Nova"}}},
        {"kind": "monthly_burst", "percent": 3},
        {"kind": "", "percent": 1},
    ]})
    assert [(lim.id, lim.label) for lim in usage.limits] == [
        ("daily_scoped:Nova", "Nova (daily scoped)"),
        ("monthly_burst", "Monthly burst"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-07-19T03:39:59.570750+00:00",
                     datetime(2026, 7, 19, 3, 39, 59, 570750, tzinfo=UTC), id="micro-offset"),
        pytest.param("2026-07-19T03:39:59Z", datetime(2026, 7, 19, 3, 39, 59, tzinfo=UTC),
                     id="Z"),
        pytest.param("2026-07-19T03:39:59.000Z", datetime(2026, 7, 19, 3, 39, 59, tzinfo=UTC),
                     id="millis-Z"),
        pytest.param("2026-07-19T03:39:59.1234567+00:00",
                     datetime(2026, 7, 19, 3, 39, 59, 123456, tzinfo=UTC), id="nanos-cut"),
        pytest.param("2026-07-19T03:39:59.5+02:00",
                     datetime(2026, 7, 19, 1, 39, 59, 500000, tzinfo=UTC), id="tenths-offset"),
        pytest.param(None, None, id="null"),
    ],
)
def test_timestamps(text: str | None, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        pytest.param(b"<html><body>503 Service Unavailable</body></html>", "an HTML page",
                     id="html-error-page"),
        pytest.param(b'{"five_hour": {"utilization": 1', "not JSON", id="truncated"),
        pytest.param(b"", "not JSON", id="empty"),
        pytest.param(b"\xff\xfe", "not UTF-8", id="binary"),
        pytest.param(b"[1, 2]", "JSON list", id="list"),
        pytest.param(b'"hello"', "JSON string", id="string"),
        pytest.param(b'{"five_hour": "full"}', "five_hour is a JSON string", id="window-string"),
        pytest.param(b'{"five_hour": {"utilization": "8%"}}', "five_hour.utilization",
                     id="util-string"),
        pytest.param(b'{"five_hour": {"utilization": true}}', "five_hour.utilization",
                     id="util-bool"),
        pytest.param(b'{"seven_day": {"resets_at": 12345}}', "seven_day.resets_at",
                     id="resets-number"),
        pytest.param(b'{"seven_day": {"resets_at": "next tuesday"}}', "not an ISO 8601",
                     id="resets-garbage"),
        pytest.param(b'{"limits": {"a": 1}}', "limits is a JSON object", id="limits-object"),
        pytest.param(b'{"limits": [3]}', "limits[0]", id="limits-item-number"),
        pytest.param(b'{"five_hour": {"utilization": NaN}}', "finite", id="nan"),
        pytest.param(b'{"extra_usage": []}', "extra_usage", id="extra-list"),
    ],
)
def test_bad_bodies_raise_one_documented_error(body: bytes, fragment: str) -> None:
    with pytest.raises(BadResponse) as info:
        parse_usage_body(body)
    assert fragment in str(info.value)


def test_usage_body_round_trip() -> None:
    assert parse_usage_body(json.dumps(JULY_2026).encode()) == parse_usage(JULY_2026)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["five_hour", "seven_day", "seven_day_opus", "limits",
                                       "extra_usage", "utilization", "resets_at", "percent",
                                       "kind", "scope", "model", "display_name", "is_enabled",
                                       "used_credits", "x"]) | st.text(max_size=8),
                      children, max_size=5),
    max_leaves=25,
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(json_values)
def test_arbitrary_json_never_crashes_the_parser(value: Any) -> None:
    try:
        result = parse_usage(value)
    except BadResponse:
        return
    assert isinstance(result, Usage)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_bad_response(body: bytes) -> None:
    try:
        parse_usage_body(body)
    except PulseError as exc:
        assert isinstance(exc, BadResponse)


def test_real_fixtures_keep_what_each_surface_needs() -> None:
    eur = parse_usage(EUR_OVER_CAP)
    fable = eur.limits[-1]
    assert (fable.label, fable.utilization, fable.active, fable.severity) == (
        "Fable (weekly)", 100.0, True, "critical")
    assert eur.extra is not None
    assert (eur.extra.currency, eur.extra.used_cents, eur.extra.monthly_limit_cents) == (
        "EUR", 4001.0, 4000.0)
    binding = parse_usage(BINDING_FABLE)
    assert [(lim.utilization, lim.active) for lim in binding.limits] == [
        (2.0, False), (61.0, False), (100.0, True)]
    sept = parse_usage(SEPT_2026_REAL)
    assert sept.extra is not None and sept.extra.monthly_limit_cents == 10000.0
