"""`core.http`: the response type and Retry-After (pure)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from claude_pulse.core.http import HttpResponse, parse_retry_after

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param(None, None, id="absent"),
    pytest.param("120", 120.0, id="seconds"),
    pytest.param("0", 0.0, id="zero-as-seen-in-the-wild"),
    pytest.param(" 30 ", 30.0, id="spaces"),
    pytest.param("Sat, 28 Nov 2026 12:10:00 GMT", 600.0, id="http-date"),
    pytest.param("Sat, 28 Nov 2026 11:00:00 GMT", 0.0, id="http-date-in-past"),
    pytest.param("-5", None, id="negative"),
    pytest.param("1.5", None, id="fraction-not-rfc"),
    pytest.param("soon", None, id="garbage"),
    pytest.param("Sat, 28 Nov 2026 12:10:00", None, id="date-without-zone"),
    pytest.param("", None, id="empty"),
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_json_body_and_case_insensitive_headers() -> None:
    resp = HttpResponse(200, b'{"a": 1}', {"retry-after": "5"})
    assert resp.json() == {"a": 1}
    assert resp.header("Retry-After") == "5"
    with pytest.raises(ValueError):
        HttpResponse(200, b"[" * 100_000).json()
