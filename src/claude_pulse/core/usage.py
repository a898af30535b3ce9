"""The usage endpoint's answer as typed values, parsed leniently (protocol.md §3).

Real responses vary: every window is optional and may be null, `utilization` may be null or above
100, `resets_at` may be null or use `Z`, `+00:00`, fractions or none, and new keys appear often.
The parser therefore accepts any valid JSON object without crashing, keeps what it recognises and
ignores the rest. Only a body that is not JSON, values of the wrong type where we need them, or
numbers no server would send (non-finite, beyond `MAX_PERCENT` / `MAX_AMOUNT`), raise
`BadResponse` with a message naming what was wrong.

One bad value must never poison the shared cache (issue #16 item 2): a time outside
`EARLIEST`..`LATEST` (year 1, say, whose window start `resets_at - 7 days` has no date) is
treated as unknown, logged, and listed in `Usage.problems` so the fetcher does not share an answer
that needed repairs. Every time that survives the parser leaves room for any date arithmetic the
surfaces do (a window's start, a countdown, a forecast).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from claude_pulse.core.line import EARLIEST, LATEST, MAX_PERCENT, read_time
from claude_pulse.errors import BadResponse

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_AMOUNT",
    "MAX_PERCENT",
    "ExtraUsage",
    "Limit",
    "Usage",
    "Window",
    "parse_timestamp",
    "parse_usage",
    "parse_usage_body",
]

log = logging.getLogger(__name__)

# EARLIEST..LATEST (the sane range for any time) and MAX_PERCENT live in core.line, with the
# time parser, so the status line's fast path reads times exactly as this module does. An amount
# in minor units beyond this is not a server's number.
MAX_AMOUNT = 1e15

# Legacy per-model weekly windows and the label each maps to (protocol.md §3.2-3.3).
_SCOPED_WINDOWS = {
    "seven_day_opus": "Opus",
    "seven_day_sonnet": "Sonnet",
    "seven_day_oauth_apps": "OAuth apps",
    "seven_day_cowork": "Cowork",
}


# Top-level keys that are not rate-limit windows, or are read by name; any other object with a
# utilization is an unknown window, listed like an unknown limit (codenames come and go).
_NOT_WINDOWS = frozenset({"five_hour", "seven_day", "extra_usage", "limits", "spend",
                          "seven_day_breakdown", "member_dashboard_available", *_SCOPED_WINDOWS})
_CODE = re.compile(r"[a-z][a-z0-9_]{0,60}")


@dataclass(frozen=True)
class Window:
    """One rate-limit window: percent used (server value, may exceed 100) and its reset time.
    `locked_reason` is set when the server says the window is locked (why, in words)."""

    utilization: float | None
    resets_at: datetime | None
    locked_reason: str | None = None


@dataclass(frozen=True)
class Limit:
    """One entry of `limits[]` (or a legacy scoped window), identified as `kind[:model]`."""

    id: str
    kind: str
    label: str
    utilization: float | None
    resets_at: datetime | None
    active: bool = False
    severity: str | None = None
    model: str | None = None  # the model a per-model limit is for ("Fable")


@dataclass(frozen=True)
class ExtraUsage:
    """Pay-as-you-go usage beyond the plan. Amounts are in minor units, `decimal_places` of them
    to the unit (2: cents)."""

    enabled: bool
    used_cents: float | None
    monthly_limit_cents: float | None  # None means no limit ("Unlimited")
    utilization: float | None
    currency: str = "USD"
    decimal_places: int = 2


@dataclass(frozen=True)
class Usage:
    """Everything we show from one response."""

    session: Window | None
    weekly: Window | None
    limits: tuple[Limit, ...] = ()
    extra: ExtraUsage | None = None
    # Values the parser had to drop (an impossible time), one short phrase each: such an answer is
    # shown but not shared (services.fetch).
    problems: tuple[str, ...] = ()

    def binding_limit(self) -> Limit | None:
        """The per-model weekly limit above the weekly window (it binds first: a real capture had
        Fable at 100 % with the week at 61 %), or None."""
        scoped = [lim for lim in self.limits
                  if lim.kind == "weekly_scoped" and lim.utilization is not None]
        if not scoped:
            return None
        top = max(scoped, key=lambda lim: lim.utilization or 0.0)
        week = self.weekly.utilization if self.weekly is not None else None
        assert top.utilization is not None
        return top if week is None or top.utilization > week else None


def parse_usage_body(body: bytes | str) -> Usage:
    """Parse a raw HTTP body. Raises BadResponse if it is not a JSON object of the known shape."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadResponse("usage response is not UTF-8 text") from exc
    try:
        payload = json.loads(body)
    except RecursionError as exc:
        raise BadResponse("usage response is JSON nested too deeply") from exc
    except ValueError as exc:
        snippet = " ".join(body[:60].split())
        hint = "an HTML page" if snippet.lstrip().startswith("<") else repr(snippet)
        raise BadResponse(f"usage response is not JSON (starts with {hint})") from exc
    return parse_usage(payload)


def parse_usage(payload: Any) -> Usage:
    """Turn a decoded usage response into a `Usage`. Raises only BadResponse."""
    if not isinstance(payload, dict):
        raise BadResponse(f"usage response is a JSON {_kind(payload)}, expected an object")
    problems: list[str] = []
    session = _window(payload, "five_hour", problems)
    weekly = _window(payload, "seven_day", problems)
    limits = _limits(payload.get("limits"), problems)
    if not limits:
        limits = _legacy_scoped(payload, problems)
    limits += _unknown_windows(payload, problems)
    # Newer responses may carry the session/weekly values only in limits[].
    by_kind = {lim.kind: lim for lim in limits}
    if session is None and "session" in by_kind:
        session = Window(by_kind["session"].utilization, by_kind["session"].resets_at)
    if weekly is None and "weekly_all" in by_kind:
        weekly = Window(by_kind["weekly_all"].utilization, by_kind["weekly_all"].resets_at)
    extra = _extra(payload.get("extra_usage"), payload.get("spend"))
    return Usage(session, weekly, limits, extra, tuple(problems))


def parse_timestamp(value: Any, where: str = "resets_at",
                    problems: list[str] | None = None) -> datetime | None:
    """ISO 8601 with `Z` or an offset, with or without a fraction; null gives None.

    A naive time is taken as UTC. Fractions longer than microseconds are cut, because Python
    3.10's `fromisoformat` accepts only 3 or 6 digits. A time outside EARLIEST..LATEST gives None
    too, with a log line and a phrase added to `problems`.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadResponse(f"{where} is a {_kind(value)}, expected a time string")
    try:
        utc = read_time(value)
    except ValueError as exc:
        raise BadResponse(f"{where} is not an ISO 8601 time: {value[:40]!r}") from exc
    if utc is not None:
        return utc
    problem = f"{where} is out of range ({value[:40]!r})"
    log.warning("usage: %s; treated as unknown", problem)
    if problems is not None:
        problems.append(problem)
    return None


def _window(payload: dict[str, Any], key: str, problems: list[str]) -> Window | None:
    raw = payload.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadResponse(f"{key} is a JSON {_kind(raw)}, expected an object or null")
    return Window(
        _number(raw.get("utilization"), f"{key}.utilization", MAX_PERCENT),
        parse_timestamp(raw.get("resets_at"), f"{key}.resets_at", problems),
        _locked_reason(raw.get("locked_reason")),
    )


def _locked_reason(raw: Any) -> str | None:
    """The server's reason as words: a code ("spend_limit_reached") is spelled out, an object's
    message or type is used, anything else non-null just means "locked"."""
    if raw is None or raw is False:
        return None
    if isinstance(raw, dict):
        raw = next((raw[k] for k in ("message", "reason", "type") if isinstance(raw.get(k), str)),
                   "locked")
    if not isinstance(raw, str) or not raw.strip():
        return "locked"
    text = " ".join(raw.split())[:80]
    return _humane(text) if _CODE.fullmatch(text) else text


def _unknown_windows(payload: dict[str, Any], problems: list[str]) -> tuple[Limit, ...]:
    out = []
    for key, raw in payload.items():
        if key in _NOT_WINDOWS or not isinstance(raw, dict) or raw.get("utilization") is None:
            continue
        window = _window(payload, key, problems)
        assert window is not None
        weekly = key.startswith("seven_day_")
        name = _humane(key.removeprefix("seven_day_")).capitalize()
        out.append(Limit(id=key, kind=key, label=f"{name} (weekly)" if weekly else name,
                         utilization=window.utilization, resets_at=window.resets_at))
    return tuple(out)


def _limits(raw: Any, problems: list[str]) -> tuple[Limit, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise BadResponse(f"limits is a JSON {_kind(raw)}, expected a list")
    out: list[Limit] = []
    for i, item in enumerate(raw):
        where = f"limits[{i}]"
        if not isinstance(item, dict):
            raise BadResponse(f"{where} is a JSON {_kind(item)}, expected an object")
        kind = item.get("kind")
        if not isinstance(kind, str) or not kind:
            continue  # nothing to name it by; skip rather than fail the whole response
        model = _model_name(item.get("scope"))
        percent = item.get("percent", item.get("utilization"))
        severity = item.get("severity")
        out.append(
            Limit(
                id=f"{kind}:{model}" if model else kind,
                kind=kind,
                label=_label(kind, model),
                utilization=_number(percent, f"{where}.percent", MAX_PERCENT),
                resets_at=parse_timestamp(item.get("resets_at"), f"{where}.resets_at",
                                          problems),
                active=item.get("is_active") is True,
                severity=severity if isinstance(severity, str) else None,
                model=model,
            )
        )
    return tuple(out)


def _legacy_scoped(payload: dict[str, Any], problems: list[str]) -> tuple[Limit, ...]:
    out = []
    for key, model in _SCOPED_WINDOWS.items():
        window = _window(payload, key, problems)
        if window is not None:
            out.append(
                Limit(
                    id=f"weekly_scoped:{model}",
                    kind="weekly_scoped",
                    label=f"{model} (weekly)",
                    utilization=window.utilization,
                    resets_at=window.resets_at,
                    model=model,
                )
            )
    return tuple(out)


def _model_name(scope: Any) -> str | None:
    if not isinstance(scope, dict):
        return None
    model = scope.get("model")
    if isinstance(model, dict):
        for key in ("display_name", "id"):
            name = model.get(key)
            if isinstance(name, str) and name.strip():
                return name.strip()
    return None


def _label(kind: str, model: str | None) -> str:
    if kind == "session":
        return "Session (5h)"
    if kind == "weekly_all":
        return "All models (weekly)"
    if model:
        return f"{model} (weekly)" if kind.startswith("weekly") else f"{model} ({_humane(kind)})"
    return _humane(kind).capitalize()


def _humane(kind: str) -> str:
    return kind.replace("_", " ").strip()


def _extra(raw: Any, spend: Any) -> ExtraUsage | None:
    """`extra_usage`, with the digits from its `decimal_places` or the `spend` block's exponent;
    a `spend` block alone (no extra_usage) is read the same way."""
    spend = spend if isinstance(spend, dict) else {}
    used = spend.get("used") if isinstance(spend.get("used"), dict) else {}
    limit = spend.get("limit") if isinstance(spend.get("limit"), dict) else {}
    if raw is None:
        if not used:
            return None
        # A newer block we only borrow from: a value of another type is dropped, not fatal.
        raw = {"is_enabled": spend.get("enabled"), "used_credits": _amount(used),
               "monthly_limit": _amount(limit), "currency": used.get("currency")}
    if not isinstance(raw, dict):
        raise BadResponse(f"extra_usage is a JSON {_kind(raw)}, expected an object or null")
    currency = raw.get("currency")
    places = next((p for p in (raw.get("decimal_places"), used.get("exponent"))
                   if isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= 6), 2)
    return ExtraUsage(
        enabled=raw.get("is_enabled") is True,
        used_cents=_number(raw.get("used_credits"), "extra_usage.used_credits", MAX_AMOUNT),
        monthly_limit_cents=_number(raw.get("monthly_limit"), "extra_usage.monthly_limit",
                                    MAX_AMOUNT),
        utilization=_number(raw.get("utilization"), "extra_usage.utilization", MAX_PERCENT),
        currency=currency if isinstance(currency, str) and currency else "USD",
        decimal_places=places,
    )


def _amount(money: dict[str, Any]) -> Any:
    value = money.get("amount_minor")
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _number(value: Any, where: str, bound: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadResponse(f"{where} is a {_kind(value)}, expected a number or null")
    if isinstance(value, int) and abs(value) > bound:  # before float(): 10**400 overflows it
        raise BadResponse(f"{where} is out of range ({_digits(value)})")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise BadResponse(f"{where} is not a finite number")
    if abs(number) > bound:
        raise BadResponse(f"{where} is out of range ({number:.3g})")
    return number


def _digits(value: int) -> str:
    # str() of a huge int is slow and may be refused (sys.set_int_max_str_digits): estimate.
    return f"a {value.bit_length() * 30103 // 100000 + 1}-digit integer"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
