"""TokenSet and token freshness (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.core.tokens import REFRESH_MARGIN, TokenSet, TokenState, token_state

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
ACCESS = "sk-ant-oat01-secret-access-value"
REFRESH = "sk-ant-ort01-secret-refresh-value"


def tokens(expires_in: timedelta = timedelta(hours=8), **kw: object) -> TokenSet:
    return TokenSet(ACCESS, REFRESH, T0 + expires_in, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("now", "expected"), [
    pytest.param(T0, TokenState.FRESH, id="just-issued"),
    pytest.param(T0 + timedelta(hours=8) - REFRESH_MARGIN - timedelta(seconds=1),
                 TokenState.FRESH, id="one-second-before-margin"),
    pytest.param(T0 + timedelta(hours=8) - REFRESH_MARGIN, TokenState.REFRESH_DUE,
                 id="margin-starts"),
    pytest.param(T0 + timedelta(hours=8) - timedelta(seconds=1), TokenState.REFRESH_DUE,
                 id="last-second"),
    pytest.param(T0 + timedelta(hours=8), TokenState.EXPIRED, id="at-expiry"),
    pytest.param(T0 + timedelta(days=30), TokenState.EXPIRED, id="long-after"),
])
def test_token_state(now: datetime, expected: TokenState) -> None:
    assert token_state(tokens(), now) is expected


def test_margin_is_five_minutes() -> None:
    assert timedelta(minutes=5) == REFRESH_MARGIN


def test_custom_margin() -> None:
    t = tokens(timedelta(minutes=10))
    assert token_state(t, T0, refresh_margin=timedelta(minutes=15)) is TokenState.REFRESH_DUE


@pytest.mark.parametrize("render", [
    pytest.param(repr, id="repr"), pytest.param(str, id="str"),
    pytest.param(lambda t: f"{t}", id="format"), pytest.param(lambda t: f"{[t]}", id="in-list"),
])
def test_repr_hides_secrets(render: object) -> None:
    assert callable(render)
    text = render(tokens(email="a@b.c"))
    assert ACCESS not in text and REFRESH not in text
    assert "a@b.c" in text and "***" in text


def test_json_round_trip() -> None:
    t = tokens(scope="user:profile", email="a@b.c")
    data = t.to_json()
    assert data["expires_at"] == int((T0 + timedelta(hours=8)).timestamp())
    assert TokenSet.from_json(data) == t


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param(1_800_000_000, datetime.fromtimestamp(1_800_000_000, timezone.utc), id="epoch"),
    pytest.param(1_800_000_000.5, datetime.fromtimestamp(1_800_000_000.5, timezone.utc),
                 id="epoch-float"),
    pytest.param("2026-11-28T12:00:00Z", T0, id="iso-z"),
    pytest.param("2026-11-28T13:00:00+01:00", T0, id="iso-offset"),
    pytest.param("2026-11-28T12:00:00", T0, id="iso-naive-is-utc"),
])
def test_from_json_expiry_forms(value: object, expected: datetime) -> None:
    data = {"access_token": "a", "refresh_token": "r", "expires_at": value}
    assert TokenSet.from_json(data).expires_at == expected


@pytest.mark.parametrize(("data", "message"), [
    pytest.param([], "JSON object", id="not-object"),
    pytest.param({"refresh_token": "r", "expires_at": 1}, "access_token", id="no-access"),
    pytest.param({"access_token": "", "refresh_token": "r", "expires_at": 1}, "access_token",
                 id="empty-access"),
    pytest.param({"access_token": "a", "expires_at": 1}, "refresh_token", id="no-refresh"),
    pytest.param({"access_token": "a", "refresh_token": "r"}, "expires_at", id="no-expiry"),
    pytest.param({"access_token": "a", "refresh_token": "r", "expires_at": True}, "expires_at",
                 id="bool-expiry"),
    pytest.param({"access_token": "a", "refresh_token": "r", "expires_at": "soon"},
                 "expires_at", id="text-expiry"),
    pytest.param({"access_token": "a", "refresh_token": "r", "expires_at": 1e300},
                 "expires_at", id="huge-expiry"),
    pytest.param({"access_token": "a", "refresh_token": "r", "expires_at": 1, "email": 5},
                 "email", id="bad-email"),
    pytest.param({"access_token": "a", "refresh_token": "r", "expires_at": 1, "scope": []},
                 "scope", id="bad-scope"),
])
def test_from_json_rejects(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TokenSet.from_json(data)


def test_from_json_error_never_contains_values() -> None:
    data = {"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": "nope"}
    with pytest.raises(ValueError) as info:
        TokenSet.from_json(data)
    assert ACCESS not in str(info.value) and REFRESH not in str(info.value)
