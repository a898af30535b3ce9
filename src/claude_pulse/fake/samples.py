"""Real usage-endpoint answers (protocol.md §3.2) as Python values, for the fake server and tests.

`JULY_2026` is the verbatim live capture; the others are the documented variants: the March 2026
legacy shape, the September 2026 shape with `seven_day_breakdown`, a null weekly window, and an
account in overage (utilization above 100). The `SEPT_2026`, `EUR_OVER_CAP`, `BINDING_FABLE`,
statusline and error-body constants are the real-world payloads quoted in
research/protocol-2026-update.md (keys real; values as their sources published them).
`default_usage(now)` builds a plausible answer whose reset times follow the clock, which is what
the fake server serves unless told otherwise.

Every constant is a fresh-looking dict, but shared: copy before mutating (`copy.deepcopy`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "BINDING_FABLE",
    "EDGE_429",
    "EUR_OVER_CAP",
    "JULY_2026",
    "MARCH_2026",
    "OVER_100",
    "PROFILE",
    "SEPT_2026",
    "SEPT_2026_BREAKDOWN",
    "SEVEN_DAY_NULL",
    "STATUSLINE_BROKEN",
    "STATUSLINE_CAPTURE",
    "TOKEN_BAD_REQUEST",
    "default_usage",
    "profile",
]

_NO_DOLLARS: dict[str, Any] = {"limit_dollars": None, "used_dollars": None,
                               "remaining_dollars": None}

# Verbatim live capture, 2026-07-18 (protocol.md §3.2: "treat it as the contract").
JULY_2026: dict[str, Any] = {
    "five_hour": {"utilization": 15.0, "resets_at": "2026-07-19T03:39:59.570750+00:00",
                  **_NO_DOLLARS},
    "seven_day": {"utilization": 48.0, "resets_at": "2026-07-23T14:59:59.570774+00:00",
                  **_NO_DOLLARS},
    "seven_day_oauth_apps": None,
    "seven_day_opus": None,
    "seven_day_sonnet": None,
    "seven_day_cowork": None,
    "seven_day_omelette": None,
    "tangelo": None,
    "iguana_necktie": None,
    "omelette_promotional": None,
    "nimbus_quill": None,
    "cinder_cove": None,
    "amber_ladder": None,
    "extra_usage": {"is_enabled": True, "monthly_limit": None, "used_credits": 40843.0,
                    "utilization": None, "currency": "USD", "decimal_places": 2,
                    "disabled_reason": None, "daily": None, "weekly": None},
    "limits": [
        {"kind": "session", "group": "session", "percent": 15, "severity": "normal",
         "resets_at": "2026-07-19T03:39:59.570750+00:00", "scope": None, "is_active": False},
        {"kind": "weekly_all", "group": "weekly", "percent": 48, "severity": "normal",
         "resets_at": "2026-07-23T14:59:59.570774+00:00", "scope": None, "is_active": False},
        {"kind": "weekly_scoped", "group": "weekly", "percent": 81, "severity": "warning",
         "resets_at": "2026-07-23T14:59:59.571131+00:00",
         "scope": {"model": {"id": None, "display_name": "Fable"}, "surface": None},
         "is_active": True},
    ],
    "spend": {"used": {"amount_minor": 40843, "currency": "USD", "exponent": 2}, "limit": None,
              "percent": 0, "severity": "normal", "enabled": True, "disabled_reason": None,
              "cap": None, "balance": None, "auto_reload": None, "disclaimer": "…",
              "can_purchase_credits": False, "can_toggle": False},
    "member_dashboard_available": False,
}

# March 2026 legacy shape: per-model weekly window as a flat key, monthly_limit in cents.
# The five_hour/seven_day values were not in the source; these are plausible.
MARCH_2026: dict[str, Any] = {
    "five_hour": {"utilization": 23.0, "resets_at": "2026-03-12T18:00:00.412306+00:00"},
    "seven_day": {"utilization": 37.0, "resets_at": "2026-03-16T09:59:59.412331+00:00"},
    "seven_day_oauth_apps": None,
    "seven_day_opus": None,
    "seven_day_sonnet": {"utilization": 2.0, "resets_at": "2026-03-16T09:59:59.412350+00:00"},
    "seven_day_cowork": None,
    "iguana_necktie": None,
    "extra_usage": {"is_enabled": True, "monthly_limit": 1000, "used_credits": 0.0,
                    "utilization": None},
}

# September 2026 sample: adds a per-surface breakdown of the weekly window.
SEPT_2026_BREAKDOWN: dict[str, Any] = {
    "five_hour": {"utilization": 8.0, "resets_at": "2026-09-21T15:17:29.108442Z"},
    "seven_day": {"utilization": 61.0, "resets_at": "2026-09-24T03:59:59.108467Z"},
    "seven_day_oauth_apps": None,
    "seven_day_opus": None,
    "seven_day_sonnet": None,
    "seven_day_breakdown": {"rows": [
        {"key": "claude_code", "display_name": "Claude Code", "percent": 100},
        {"key": "chat", "display_name": "Chat", "percent": 0},
    ]},
    "extra_usage": {"is_enabled": False, "monthly_limit": None, "used_credits": None,
                    "utilization": None},
}

# A whole window may be null (protocol.md §3.3); also a null utilization and null reset.
SEVEN_DAY_NULL: dict[str, Any] = {
    "five_hour": {"utilization": 4.0, "resets_at": "2026-10-02T11:00:00+00:00"},
    "seven_day": None,
    "seven_day_opus": None,
    "seven_day_sonnet": {"utilization": 0.0, "resets_at": None},
    "extra_usage": None,
}

# An account in overage: utilization above 100 must still be shown, not rejected.
OVER_100: dict[str, Any] = {
    "five_hour": {"utilization": 104.0, "resets_at": "2026-09-15T20:39:59.000Z",
                  **_NO_DOLLARS},
    "seven_day": {"utilization": 97.0, "resets_at": "2026-09-18T14:59:59.000Z", **_NO_DOLLARS},
    "seven_day_opus": None,
    "seven_day_sonnet": None,
    "extra_usage": {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1250.0,
                    "utilization": 25.0, "currency": "USD", "decimal_places": 2,
                    "disabled_reason": None, "daily": None, "weekly": None},
    "limits": [
        {"kind": "session", "group": "session", "percent": 104, "severity": "critical",
         "resets_at": "2026-09-15T20:39:59.000Z", "scope": None, "is_active": True},
        {"kind": "weekly_all", "group": "weekly", "percent": 97, "severity": "warning",
         "resets_at": "2026-09-18T14:59:59.000Z", "scope": None, "is_active": False},
    ],
}

# September 2026 schema (mlcousek docs/data-sources.md, probed on Claude Code 2.1.224; the author
# says the values are synthetic): per-window locked_reason, codename keys, a real-looking
# nimbus_quill window, extra_usage.decimal_places & co., and the `spend` block with exponents.
_NO_DOLLARS_UNLOCKED: dict[str, Any] = {**_NO_DOLLARS, "locked_reason": None}
SEPT_2026: dict[str, Any] = {
    "five_hour": {"utilization": 51.0, "resets_at": "2026-09-07T16:30:00.961652+00:00",
                  **_NO_DOLLARS_UNLOCKED},
    "seven_day": {"utilization": 9.0, "resets_at": "2026-09-11T14:00:00.961672+00:00",
                  **_NO_DOLLARS_UNLOCKED},
    "seven_day_opus": None, "seven_day_sonnet": None, "seven_day_oauth_apps": None,
    "seven_day_cowork": None, "seven_day_omelette": None,
    "tangelo": None, "iguana_necktie": None, "omelette_promotional": None, "cinder_cove": None,
    "copper_kite": None, "amber_ladder": None, "juniper_tide": None,
    "nimbus_quill": {"utilization": 0.0, "resets_at": None, **_NO_DOLLARS_UNLOCKED},
    "extra_usage": {"is_enabled": True, "monthly_limit": 10000, "used_credits": 0.0,
                    "utilization": None, "currency": "USD", "decimal_places": 2,
                    "disabled_reason": None, "user_disabled": False,
                    "spend_limit_reached": False, "credits_ever_enabled": True,
                    "daily": None, "weekly": None},
    "limits": [{"kind": "session", "group": "session", "percent": 51, "severity": "warning",
                "resets_at": "2026-09-07T16:30:00.961652+00:00", "scope": None,
                "is_active": True}],
    "spend": {"used": {"amount_minor": 0, "currency": "USD", "exponent": 2},
              "limit": {"amount_minor": 10000, "currency": "USD", "exponent": 2},
              "percent": 0, "severity": "normal", "enabled": True, "disabled_reason": None,
              "cap": {"money": None, "credits": {"amount_minor": 10000, "exponent": 2}},
              "balance": None, "auto_reload": None, "can_purchase_credits": False,
              "can_toggle": False},
    "member_dashboard_available": False,
}

# A EUR account over its spend cap (wus-technik design doc, 2026-07-27, from Claude Code's
# cache): only the limits/money part was published, so no five_hour/seven_day keys. The
# weekly_scoped Fable cap is at 100 % and active while weekly_all shows 90 %.
EUR_OVER_CAP: dict[str, Any] = {
    "limits": [
        {"kind": "session", "group": "session", "percent": 0, "severity": "normal",
         "resets_at": None, "scope": None, "is_active": False},
        {"kind": "weekly_all", "group": "weekly", "percent": 90, "severity": "critical",
         "resets_at": "2026-07-27T16:00:00.081713+00:00", "scope": None, "is_active": False},
        {"kind": "weekly_scoped", "group": "weekly", "percent": 100, "severity": "critical",
         "resets_at": "2026-07-27T16:00:00.081947+00:00", "is_active": True,
         "scope": {"model": {"id": None, "display_name": "Fable"}, "surface": None}},
    ],
    "spend": {"used": {"amount_minor": 4001, "currency": "EUR", "exponent": 2},
              "limit": {"amount_minor": 4000, "currency": "EUR", "exponent": 2},
              "percent": 100, "severity": "critical", "enabled": True, "disabled_reason": None,
              "cap": {"money": {"amount_minor": 4000, "currency": "EUR", "exponent": 2},
                      "credits": None},
              "balance": None, "auto_reload": None, "can_purchase_credits": False,
              "can_toggle": False},
    "extra_usage": {"is_enabled": True, "monthly_limit": 4000, "used_credits": 4001,
                    "utilization": 100, "currency": "EUR", "decimal_places": 2,
                    "disabled_reason": None, "user_disabled": False,
                    "spend_limit_reached": False, "credits_ever_enabled": True,
                    "daily": None, "weekly": None},
}

# A binding per-model cap while the weekly looks fine (CCSwitcher PR #34, 2026-09-04, trimmed by
# its author): Fable at 100 % and active, the weekly window at 61 %.
BINDING_FABLE: dict[str, Any] = {
    "limits": [
        {"kind": "session", "percent": 2, "is_active": False, "scope": None},
        {"kind": "weekly_all", "percent": 61, "is_active": False, "scope": None},
        {"kind": "weekly_scoped", "percent": 100, "is_active": True,
         "scope": {"model": {"display_name": "Fable"}}},
    ],
}

# Claude Code's statusline stdin: a real capture (Irrlicht #309, 2026-05-14; note the float
# noise), and the release that put the epoch time into used_percentage (claude-code #52326).
STATUSLINE_CAPTURE = (
    '{"rate_limits":{"five_hour":{"used_percentage":16,"resets_at":1778761800},'
    '"seven_day":{"used_percentage":14.000000000000002,"resets_at":1779188400}}}'
)
STATUSLINE_BROKEN = (
    '{"rate_limits":{"five_hour":{"used_percentage":1776950400,"resets_at":1776950400}}}'
)

# Error bodies: the token endpoint's bad request (hermes #96561, 2026-08-27) and the usage
# endpoint's edge 429 (SuperIsland #95), sent with `Retry-After: 0` or `Retry-After: 3600`.
TOKEN_BAD_REQUEST: dict[str, Any] = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "Invalid request format"},
    "request_id": "req_011CeTfSeR9YpmKhVGUGfXR2",
}
EDGE_429: dict[str, Any] = {
    "error": {"type": "rate_limit_error", "message": "Rate limited. Please try again later."},
}

# Profile shape (protocol.md §4.1); note `account.email` here vs `email_address` in tokens.
PROFILE: dict[str, Any] = {
    "account": {"uuid": "4f7d1c0e-2b6a-4e59-9d3f-8a1b2c3d4e5f", "full_name": "Pulse User",
                "display_name": "Pulse", "email": "pulse.user@example.com",
                "has_claude_max": True, "has_claude_pro": False,
                "created_at": "2024-10-22T07:21:47.099776Z"},
    "organization": {"uuid": "0b9e8d7c-6f5a-4b3c-8d2e-1f0a9b8c7d6e",
                     "name": "pulse.user@example.com's Organization",
                     "organization_type": "claude_max", "billing_type": "stripe_subscription",
                     "rate_limit_tier": "default_claude_max_5x", "seat_tier": None,
                     "has_extra_usage_enabled": True, "subscription_status": "active",
                     "subscription_created_at": "2026-01-16T18:22:42.826732Z"},
    "application": {"uuid": "a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1b", "name": "Claude Code",
                    "slug": "claude-code"},
    "enabled_plugins": [],
}


def profile(email: str, account_uuid: str, org_uuid: str) -> dict[str, Any]:
    """`PROFILE` for another account."""
    return {
        **PROFILE,
        "account": {**PROFILE["account"], "uuid": account_uuid, "email": email},
        "organization": {**PROFILE["organization"], "uuid": org_uuid,
                         "name": f"{email}'s Organization"},
        "enabled_plugins": [],
    }


def _iso(moment: datetime) -> str:
    # The live server's format: microseconds and "+00:00".
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def default_usage(now: datetime) -> dict[str, Any]:
    """A plausible current answer: session 42 % resetting in 2h13m, weekly 68 % in 3d 5h."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    session_reset = _iso(now + timedelta(hours=2, minutes=13))
    weekly_reset = _iso(now + timedelta(days=3, hours=5))
    return {
        "five_hour": {"utilization": 42.0, "resets_at": session_reset, **_NO_DOLLARS},
        "seven_day": {"utilization": 68.0, "resets_at": weekly_reset, **_NO_DOLLARS},
        "seven_day_oauth_apps": None,
        "seven_day_opus": None,
        "seven_day_sonnet": None,
        "seven_day_cowork": None,
        "extra_usage": {"is_enabled": False, "monthly_limit": None, "used_credits": None,
                        "utilization": None, "currency": "USD", "decimal_places": 2,
                        "disabled_reason": None, "daily": None, "weekly": None},
        "limits": [
            {"kind": "session", "group": "session", "percent": 42, "severity": "normal",
             "resets_at": session_reset, "scope": None, "is_active": False},
            {"kind": "weekly_all", "group": "weekly", "percent": 68, "severity": "normal",
             "resets_at": weekly_reset, "scope": None, "is_active": True},
            {"kind": "weekly_scoped", "group": "weekly", "percent": 12, "severity": "normal",
             "resets_at": weekly_reset,
             "scope": {"model": {"id": None, "display_name": "Opus"}, "surface": None},
             "is_active": False},
        ],
        "member_dashboard_available": False,
    }
