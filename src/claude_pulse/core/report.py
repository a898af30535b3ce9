"""`claude-pulse status` output: the JSON contract of design.md §3 and the human text.

Numbers are the server's (not clamped); times are ISO 8601 with an offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from claude_pulse.core.forecast import Forecast, describe
from claude_pulse.core.format import (
    DASH,
    ON_TRACK,
    OVER_BUDGET,
    WindowState,
    age,
    clock_time,
    locked_phrase,
    login_expiry,
    money,
    percent,
    resets_phrase,
    window_state,
)
from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW, elapsed_percent, is_over_budget
from claude_pulse.core.usage import Limit, Usage, Window

__all__ = ["status_json", "status_text"]


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _forecast_json(fc: Forecast | None, now: datetime) -> dict[str, Any] | None:
    if fc is None:
        return None
    return {"hits_limit_at": _iso(fc.hits_limit_at), "rate_per_hour":
            None if fc.rate_per_hour is None else round(fc.rate_per_hour, 2),
            "text": describe(fc, now=now)}


def _window_json(window: Window | None, length: Any, now: datetime, weekly: bool,
                 fc: Forecast | None = None) -> Any:
    if window is None:
        return None
    elapsed = elapsed_percent(window.resets_at, length, now)
    out: dict[str, Any] = {
        "utilization": window.utilization,
        "resets_at": _iso(window.resets_at),
        "elapsed_percent": None if elapsed is None else round(elapsed, 1),
        "locked_reason": window.locked_reason,
    }
    if weekly:
        out["over_budget"] = is_over_budget(window.utilization, elapsed)
    out["forecast"] = _forecast_json(fc, now)
    return out


def _limit_json(limit: Limit, binding: bool) -> dict[str, Any]:
    return {
        "id": limit.id,
        "label": limit.label,
        "utilization": limit.utilization,
        "resets_at": _iso(limit.resets_at),
        "active": limit.active,
        "binding": binding,
    }


def status_json(
    usage: Usage,
    fetched_at: datetime,
    now: datetime,
    *,
    stale_reason: str | None = None,
    next_try: datetime | None = None,
    account: str | None = None,
    source: str = "api",
    forecasts: tuple[Forecast | None, Forecast | None] = (None, None),
    login_expires_at: datetime | None = None,
) -> dict[str, Any]:
    extra = usage.extra
    return {
        "fetched_at": fetched_at.isoformat(),
        "session": _window_json(usage.session, SESSION_WINDOW, now, False, forecasts[0]),
        "weekly": _window_json(usage.weekly, WEEK_WINDOW, now, True, forecasts[1]),
        "limits": [_limit_json(limit, limit is usage.binding_limit()) for limit in usage.limits],
        "extra_usage": None if extra is None else {
            "enabled": extra.enabled,
            "used_cents": extra.used_cents,
            "monthly_limit_cents": extra.monthly_limit_cents,
            "utilization": extra.utilization,
            "currency": extra.currency,
            "decimal_places": extra.decimal_places,
        },
        "stale": stale_reason is not None,
        "stale_reason": stale_reason,
        "next_try": _iso(next_try),
        "account": account,
        "login_expires_at": _iso(login_expires_at),
        "source": source,
    }


def _money(minor: float | None, currency: str, places: int) -> str:
    return "no limit" if minor is None else money(minor, currency, places)


def status_text(
    usage: Usage,
    fetched_at: datetime,
    now: datetime,
    *,
    tz: tzinfo | None = None,
    hour24: bool = True,
    stale_reason: str | None = None,
    account: str | None = None,
    forecasts: tuple[Forecast | None, Forecast | None] = (None, None),
    login_expires_at: datetime | None = None,
) -> str:
    """A few aligned lines for a terminal."""

    def clock(when: datetime) -> str:
        return clock_time(when, now, tz, hour24=hour24)  # tz None: the machine's local zone

    rows: list[tuple[str, str, str]] = []
    for label, window, length, forecast in (
            ("Session (5h)", usage.session, SESSION_WINDOW, forecasts[0]),
            ("Weekly (7d)", usage.weekly, WEEK_WINDOW, forecasts[1])):
        if window is None:
            continue
        state = window_state(window, now)
        shown = percent(window.utilization) if state is WindowState.LIVE else DASH
        detail = resets_phrase(window, now, tz, hour24=hour24)
        if state is WindowState.LIVE and window.resets_at is not None:
            detail += f" ({clock(window.resets_at)})"
        if window.locked_reason is not None:
            detail = f"{locked_phrase(window.locked_reason)} · {detail}"
        if length is WEEK_WINDOW and state is WindowState.LIVE:
            elapsed = elapsed_percent(window.resets_at, WEEK_WINDOW, now)
            if elapsed is not None:
                verdict = OVER_BUDGET if is_over_budget(window.utilization, elapsed) else ON_TRACK
                detail += f" · {percent(elapsed)} of week elapsed · {verdict}"
        rows.append((label, shown, detail))
        if forecast is not None and state is WindowState.LIVE:
            rows.append(("", "", describe(forecast, tz, now=now, hour24=hour24)))
    binding = usage.binding_limit()
    for limit in usage.limits:
        if limit.kind in ("session", "weekly_all"):
            continue  # already shown above
        notes = [note for note, on in (("active", limit.active),
                                       ("binds before the weekly limit", limit is binding)) if on]
        rows.append((limit.label, percent(limit.utilization), " · ".join(notes)))
    extra = usage.extra
    if extra is not None and extra.enabled:
        places = extra.decimal_places
        rows.append(("Extra usage", _money(extra.used_cents, extra.currency, places),
                     f"of {_money(extra.monthly_limit_cents, extra.currency, places)}"))
    if not rows:
        rows.append(("Usage", DASH, "the server sent no limits for this account"))
    width = max(len(r[0]) for r in rows)
    lines = [f"Claude Pulse — {account}" if account else "Claude Pulse"]
    lines += [f"{name:<{width}}  {value:>5}  {detail}".rstrip() for name, value, detail in rows]
    updated = f"Updated {clock(fetched_at)}"
    if stale_reason:
        updated += f" ({age(max(now - fetched_at, timedelta(0)))}) — stale: {stale_reason}"
    lines.append(updated)
    if login_expires_at is not None:
        lines.append(login_expiry(login_expires_at, now, tz))
    return "\n".join(lines)
