"""The status line's text, Claude Code's feed, and the plain shapes the fast path can read.

Standard library only, and little of it (datetime, math, the `_json` scanner): `fastline` imports
this on every `claude-pulse statusline`, so nothing here may pull in `core.usage` (dataclasses,
logging, typing), nor `json` (whose `re` and `enum` were most of the status line's imports) —
`tests/test_fastline.py` checks the import list. Everything the line shows is
decided here once, for the fast path and the full one (`core.statusline`, `core.format`
re-export it):

The line, e.g. ``5h 42% · resets 1h12m · 7d 68% ▲``:

* ``5h N%`` — the session window, rounded down as every surface does (`percent`); then
  ``resets XhYm`` (time left in the compact form, rounded down; ``<1m`` in the last minute). A
  window whose reset time has passed shows ``5h reset``: its number belongs to the previous
  window.
* ``7d N%`` — the weekly window, followed by ``▲`` when it is over budget (used % above elapsed
  % of the week, as in the tray) and by nothing when on track: the line stays short in the
  normal case and the arrow stands out when it matters.
* ``locked`` after a window's number when the server says it is locked (``locked_reason``).
* ``Fable 100%`` when a per-model weekly limit is above the weekly window: it binds first.
* A window the server did not send, or sent with a null value, is left out.
* ``(stale 12m)`` at the end when the numbers are cached ones we could not refresh; the age is
  how old the numbers are. During a 429 cooldown or with the hourly request budget spent it
  also says when the next request may go: ``(stale 12m, next 14:05)``.

Claude Code's feed (design.md §3): a JSON object on stdin which, for subscribers and after the
session's first API response, carries ``rate_limits.five_hour``/``seven_day`` with
``used_percentage`` (number) and ``resets_at`` (Unix epoch seconds). It is converted to the usage
endpoint's own shape so the snapshot file and the parser stay the same for every source.

The feed is sanity-checked (issue #18 item 6): an entry whose ``used_percentage`` is not a number
in 0-1000, or whose ``resets_at`` is not a time within the window's length (+1 day) of now, is
ignored — a real Claude Code release once put the epoch time into ``used_percentage``
(claude-code #52326).

What the line needs of a snapshot is saved with it (`line_facts`, the ``"line"`` key
`services.snapshot.SnapshotStore.save` writes from the full parser's reading): both windows'
number, reset time and lock, and the binding per-model limit. `saved_line` reads that key back
for the fast path, so a real API answer (per-model `limits`, `extra_usage`, `spend`) needs no
second parser. A snapshot without the key (an older Claude Pulse wrote it) is read by
`plain_usage`: the answers whose meaning needs none of `core.usage`'s leniency (the two windows
with plain numbers and ISO times, nothing per-model, nothing locked, no extras). For anything
else both answer None and the caller takes the full path, which parses everything.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone, tzinfo

from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW, elapsed_percent, is_over_budget

TYPE_CHECKING = False  # typing itself costs ~2 ms per status line; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any, Protocol

    class WindowLike(Protocol):
        """What the line reads of a window: `core.usage.Window`, or a `Span`."""

        @property
        def utilization(self) -> float | None: ...

        @property
        def resets_at(self) -> datetime | None: ...

        @property
        def locked_reason(self) -> str | None: ...

__all__ = [
    "DASH",
    "EARLIEST",
    "FEED_RESAVE",
    "LATEST",
    "LINE_VERSION",
    "MAX_FEED_PERCENT",
    "MAX_PERCENT",
    "NO_DATA",
    "OFFLINE",
    "OVER_BUDGET_MARK",
    "PREFIX",
    "TRAY_TURN",
    "Span",
    "WindowState",
    "age",
    "clock_time",
    "duration",
    "fast_line",
    "feed_is_known",
    "format_windows",
    "from_claude_code",
    "is_fresh",
    "line_facts",
    "percent",
    "plain_snapshot",
    "plain_usage",
    "read_json",
    "read_time",
    "resets_phrase",
    "same_window",
    "saved_line",
    "window_state",
]

PREFIX = "Claude Pulse"
OFFLINE = f"{PREFIX}: offline"
NO_DATA = f"{PREFIX}: no usage data yet"
DASH = "–"
OVER_BUDGET_MARK = "▲"
_SEP = " · "

# The tray polls every interval ±10 %: the status line waits this much longer before it asks
# itself, so with the tray running it shares the tray's requests instead of adding its own.
TRAY_TURN = 1.2
# The same numbers from the feed are saved again once the snapshot is this share of a poll
# interval old: the tray takes a feed snapshot younger than the interval as live and asks
# Anthropic itself once it is older (`core.polling`), so a live feed re-saves before that.
FEED_RESAVE = 0.5

# The sane range for any time the server sends: wide enough for every real reset, narrow enough
# that date arithmetic on it never overflows (and `timestamp()` works on Windows too).
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
# A percentage beyond this is not a server's number (core.usage refuses the answer).
MAX_PERCENT = 1e6

# The two windows Claude Code reports: the usage endpoint's name for each, and its length.
_FEED_KEYS = {"five_hour": ("five_hour", SESSION_WINDOW), "seven_day": ("seven_day", WEEK_WINDOW)}
# The highest used_percentage taken as real (overage goes past 100, never this far).
MAX_FEED_PERCENT = 1000.0
_SLACK = timedelta(days=1)
# Epoch values above this are taken as milliseconds (year 5138 in seconds), in case a version
# of Claude Code ever sends JavaScript's Date.now() style.
_MS_THRESHOLD = 1e11


# ---- the building blocks every surface formats with (re-exported by core.format) ----------


class WindowState:
    """Is a window's number current? Three values, compared with `is` (a plain class, not an
    Enum: `enum` alone costs the status line ~40 % of an interpreter start)."""

    __slots__ = ("value",)
    LIVE: WindowState  # a current number (its reset time may be unknown)
    RESET_PASSED: WindowState  # the number belongs to the window before this one
    UNKNOWN: WindowState  # no window, or no number for it

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"WindowState.{self.value.upper().replace(' ', '_')}"


WindowState.LIVE = WindowState("live")
WindowState.RESET_PASSED = WindowState("reset passed")
WindowState.UNKNOWN = WindowState("unknown")


def window_state(window: WindowLike | None, now: datetime) -> WindowState:
    if window is None or window.utilization is None:
        return WindowState.UNKNOWN
    if window.resets_at is not None and window.resets_at <= now:
        return WindowState.RESET_PASSED
    return WindowState.LIVE


def duration(span: timedelta, *, compact: bool = False) -> str:
    """A length of time, coarsest two units, rounded down; negative counts as zero.

    long: "<1m", "45m", "2h 13m", "2h", "3d 4h"; compact: "<1m", "45m", "2h13m", "2h", "3d4h".
    """
    minutes = int(max(0.0, span.total_seconds()) // 60)
    if minutes < 1:
        return "<1m"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        big, small = f"{days}d", f"{hours}h" if hours else ""
    elif hours:
        big, small = f"{hours}h", (f"{minutes:02d}m" if compact else f"{minutes}m") \
            if minutes else ""
    else:
        return f"{minutes}m"
    if not small:
        return big
    return f"{big}{small}" if compact else f"{big} {small}"


def age(span: timedelta, *, compact: bool = False) -> str:
    """How old something is. long: "just now", "12 min ago", "2h 5m ago"; compact: "12m"."""
    if compact:
        return duration(span, compact=True)
    seconds = span.total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    return f"{duration(span)} ago"


def percent(value: float | None) -> str:
    """Whole percent, rounded down; "–" when unknown."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{max(0, math.floor(value))}%"


def clock_time(moment: datetime, now: datetime | None = None, tz: tzinfo | None = None, *,
               hour24: bool = True) -> str:
    """"14:05" (or "2:05 PM"); "Fri 14:05" when `now` is given and it is another day.

    `tz` None: the machine's local zone.
    """
    local = moment.astimezone(tz)
    if hour24:
        text = f"{local:%H:%M}"
    else:  # not %p: it is empty in some locales
        text = f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    if now is not None and local.date() != now.astimezone(tz).date():
        text = f"{local:%a} {text}"
    return text


def resets_phrase(window: WindowLike, now: datetime, tz: tzinfo | None = None, *,
                  hour24: bool = True, compact: bool = False) -> str:
    """"resets in 2h 13m", "reset at 14:05" (already passed), "reset time unknown"; compact:
    "resets 2h13m", "reset"."""
    if window.resets_at is None:
        return "reset time unknown"
    if window.resets_at <= now:
        return "reset" if compact else \
            f"reset at {clock_time(window.resets_at, now, tz, hour24=hour24)}"
    left = duration(window.resets_at - now, compact=compact)
    return f"resets {left}" if compact else f"resets in {left}"


# ---- the line ------------------------------------------------------------------------------


def format_windows(session: WindowLike | None, weekly: WindowLike | None,
                   binding: tuple[str, float | None] | None, now: datetime, *,
                   stale_age: timedelta | None = None, next_request: datetime | None = None,
                   tz: tzinfo | None = None, hour24: bool = True) -> str:
    """The status line for two windows and the binding per-model limit (its name and percent)
    at `now`; `stale_age` adds ``(stale …)``, and `next_request` (with it) ``, next 14:05``."""
    parts: list[str] = []
    for name, window in (("5h", session), ("7d", weekly)):
        state = window_state(window, now)
        if window is None or state is WindowState.UNKNOWN:
            continue
        if state is WindowState.RESET_PASSED:
            parts.append(f"{name} {resets_phrase(window, now, compact=True)}")
            continue
        text = f"{name} {percent(window.utilization)}"
        if window.locked_reason is not None:
            text += " locked"
        if name == "7d":
            elapsed = elapsed_percent(window.resets_at, WEEK_WINDOW, now)
            if is_over_budget(window.utilization, elapsed):
                text += f" {OVER_BUDGET_MARK}"
            parts.append(text)
            continue
        parts.append(text)
        if window.resets_at is not None:
            parts.append(resets_phrase(window, now, compact=True))
    if binding is not None:  # a per-model cap above the week binds first
        parts.append(f"{binding[0]} {percent(binding[1])}")
    if not parts:
        return NO_DATA
    line = _SEP.join(parts)
    if stale_age is not None:
        nxt = "" if next_request is None else \
            f", next {clock_time(next_request, now, tz=tz, hour24=hour24)}"
        line += f" (stale {age(stale_age, compact=True)}{nxt})"
    return line


def same_window(a: WindowLike | None, b: WindowLike | None) -> bool:
    """Whether two windows say the same: the feed's numbers need no saving when they do."""
    if a is None or b is None:
        return a is b
    if a.utilization != b.utilization:
        return False
    if a.resets_at is None or b.resets_at is None:
        return a.resets_at is b.resets_at
    # The API's reset times carry microseconds, Claude Code's whole seconds.
    return abs((a.resets_at - b.resets_at).total_seconds()) < 60


# ---- Claude Code's feed --------------------------------------------------------------------


def from_claude_code(text: str | bytes, now: datetime | None = None) -> dict[str, Any] | None:
    """The usage-endpoint-shaped dict from Claude Code's stdin JSON, or None.

    None when the input is not a JSON object, has no ``rate_limits``, or neither window passes
    the sanity checks (with `now`, also the reset time's). Never raises: bad input just means
    "use the cache".
    """
    try:
        payload = read_json(text)
    except (ValueError, TypeError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    limits = payload.get("rate_limits") if isinstance(payload, dict) else None
    if not isinstance(limits, dict):
        return None
    out: dict[str, Any] = {}
    for feed_key, (server_key, length) in _FEED_KEYS.items():
        window = limits.get(feed_key)
        if not isinstance(window, dict):
            continue
        used = window.get("used_percentage")
        if isinstance(used, bool) or not isinstance(used, (int, float)) or \
                not 0 <= used <= MAX_FEED_PERCENT:  # also false for NaN
            continue
        raw_reset = window.get("resets_at")
        resets = _epoch_to_iso(raw_reset)
        if raw_reset is not None and (resets is None or not _plausible(resets, length, now)):
            continue
        out[server_key] = {"utilization": float(used), "resets_at": resets}
    return out or None


def _plausible(resets: str, length: timedelta, now: datetime | None) -> bool:
    if now is None:
        return True
    when = datetime.fromisoformat(resets)
    return abs(when - now) <= length + _SLACK


def _epoch_to_iso(value: Any) -> str | None:
    if isinstance(value, str):  # not what Claude Code sends today, but cheap to accept
        try:
            parsed = read_time(value)
        except ValueError:
            return None
        return parsed.isoformat() if parsed else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    seconds = value / 1000.0 if value > _MS_THRESHOLD else float(value)
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


# ---- JSON without the json package ---------------------------------------------------------


class _Decoding:
    # What `json.JSONDecoder` hands the C scanner: json.loads' own defaults.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"),
                      "NaN": float("nan")}.__getitem__


_scan: Any = None  # the scanner, once made; False on a Python without `_json`
_JSON_SPACE = " \t\n\r"


def _scanner() -> Any:
    try:
        from _json import make_scanner
    except ImportError:  # another Python: json.loads is what it has
        return False
    context: Any = _Decoding()  # what the scanner reads of a JSONDecoder, and nothing else
    return make_scanner(context)


def read_json(data: str | bytes) -> Any:
    """`json.loads(data)`, answered by the same C scanner json.loads uses, without importing
    `json` (with its `re` and `enum`, most of what the status line would import). Input that
    is not plain UTF-8 text (a BOM, UTF-16), or a Python without `_json`, goes to json.loads
    itself. Raises ValueError (json.JSONDecodeError or UnicodeDecodeError) or RecursionError,
    as json.loads does."""
    global _scan
    if isinstance(data, (bytes, bytearray)):
        # json.loads guesses UTF-16/32 from a BOM or NUL bytes at the start; leave those to it.
        # (a BOM starts with a byte beyond ASCII, and so does nothing else that is JSON).
        text = None if not data[:1].isascii() or 0 in data[:4] else \
            bytes(data).decode("utf-8", "surrogatepass")
    else:
        text = None if data.startswith("\ufeff") else data
    if _scan is None:
        _scan = _scanner()
    if text is None or _scan is False:
        import json

        return json.loads(data)
    start = len(text) - len(text.lstrip(_JSON_SPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration:
        raise ValueError(f"not JSON (expecting a value at {start})") from None
    if text[end:].lstrip(_JSON_SPACE):
        raise ValueError(f"not JSON (extra data at {end})")
    return value


# ---- the plain shapes ----------------------------------------------------------------------


class Span:
    """A window as `plain_usage` read it: what `core.usage.Window` holds, without dataclasses."""

    __slots__ = ("locked_reason", "resets_at", "utilization")

    def __init__(self, utilization: float | None, resets_at: datetime | None) -> None:
        self.utilization = utilization
        self.resets_at = resets_at
        self.locked_reason: str | None = None

    def __repr__(self) -> str:
        return f"Span({self.utilization!r}, {self.resets_at!r})"


def read_time(text: str) -> datetime | None:
    """An ISO 8601 time (`Z` or an offset, with or without a fraction; a naive one is UTC) in
    UTC; None when it is outside EARLIEST..LATEST. ValueError when it is not ISO 8601.

    `core.usage.parse_timestamp` wraps this with its messages; `plain_usage` uses it directly.
    """
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Since Python 3.11 this takes any fraction (cut to microseconds) and a "Z"; 3.10 needed a
    # regular expression to pad or cut fractions to 3 or 6 digits first.
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        # Normalised to UTC here, once: a time at the edge of the calendar ("0001-01-01T00:00
        # +14:00") has no UTC value and must be caught now, not later in the window's countdown.
        utc = parsed.astimezone(timezone.utc)
    except OverflowError:
        return None
    return utc if EARLIEST <= utc < LATEST else None


class _NotPlain(Exception):
    pass


# Keys `core.usage.parse_usage` may turn into a limit, a window or an extra when not null: in a
# plain answer they are null or absent. Any other key must hold a plain value (an unknown
# window is an object).
_NULL_OR_ABSENT = ("limits", "extra_usage", "spend", "seven_day_opus", "seven_day_sonnet",
                   "seven_day_oauth_apps", "seven_day_cowork")


def plain_usage(raw: object) -> tuple[Span | None, Span | None] | None:
    """(session, weekly) when `raw` is a usage answer `core.usage.parse_usage` reads as those
    two windows and nothing else (no limits, no lock, no extras, no repairs); else None."""
    if not isinstance(raw, dict):
        return None
    try:
        for key, value in raw.items():
            if key in ("five_hour", "seven_day") or value is None:
                continue
            if key in _NULL_OR_ABSENT or isinstance(value, (dict, list)):
                return None
        return _plain_window(raw.get("five_hour")), _plain_window(raw.get("seven_day"))
    except _NotPlain:
        return None


def _plain_window(raw: Any) -> Span | None:
    if raw is None:
        return None
    locked = raw.get("locked_reason") if isinstance(raw, dict) else True
    if locked is not None and locked is not False:  # not `in (None, False)`: 0 == False
        raise _NotPlain
    used = raw.get("utilization")
    if used is not None and (type(used) not in (int, float) or not math.isfinite(used)
                             or abs(used) > MAX_PERCENT):
        raise _NotPlain
    resets = raw.get("resets_at")
    when = None if resets is None else _plain_time(resets)
    return Span(None if used is None else float(used), when)


def _plain_time(value: object) -> datetime:
    # A time the full parser would refuse, or repair (out of range: logged), is not plain.
    if not isinstance(value, str):
        raise _NotPlain
    try:
        when = read_time(value)
    except ValueError:
        raise _NotPlain from None
    if when is None:
        raise _NotPlain
    return when


if TYPE_CHECKING:
    # What the fast path prints from: when the snapshot was fetched, its two windows, and the
    # binding per-model limit (name, percent) or None.
    Cached = tuple[datetime, "Span | None", "Span | None", "tuple[str, float] | None"]


def plain_snapshot(data: object) -> Cached | None:
    """(fetched_at, session, weekly, None) of `snapshot.json`'s content when its usage is plain
    (see `plain_usage`); else None."""
    if not isinstance(data, dict):
        return None
    usage = plain_usage(data.get("usage"))
    if usage is None:
        return None
    try:
        fetched_at = _plain_time(data.get("fetched_at"))
    except _NotPlain:
        return None
    return fetched_at, usage[0], usage[1], None


# ---- the line's facts, saved with the snapshot ---------------------------------------------

# The "line" key's version: a reader takes only the version it knows. Bump it whenever what the
# line shows (or how `line_facts` derives it) changes, so an older file goes to the full path.
LINE_VERSION = 1


def line_facts(session: WindowLike | None, weekly: WindowLike | None,
               binding: tuple[str, float | None] | None) -> dict[str, Any] | None:
    """The ``"line"`` key saved with a snapshot: exactly what `format_windows` reads, as the
    full parser read the answer (`core.statusline.line_facts` passes a `Usage`'s parts).
    None when a number could not be written as JSON (non-finite: the parser refuses those)."""
    windows: list[list[Any] | None] = []
    for window in (session, weekly):
        if window is None:
            windows.append(None)
            continue
        used = window.utilization
        if used is not None and not math.isfinite(used):
            return None
        windows.append([used, None if window.resets_at is None else window.resets_at.isoformat(),
                        window.locked_reason is not None])
    if binding is not None:
        if binding[1] is None or not math.isfinite(binding[1]):
            return None
        binding = (binding[0], binding[1])
    return {"v": LINE_VERSION, "session": windows[0], "weekly": windows[1],
            "binding": None if binding is None else list(binding)}


def saved_line(data: object) -> Cached | None:
    """(fetched_at, session, weekly, binding) from `snapshot.json`'s ``"line"`` key, or None:
    no key (an older version saved the file), a version this one does not know, anything
    malformed, or windows the raw usage beside it contradicts.

    The key is written in the same atomic write as the raw usage, from the same parse, and an
    older version rewrites the whole file without it; so a contradiction is a hand edit or a
    bug. The raw answer is the truth then: None here, and the caller reads the raw usage (or
    the full path does; its next save writes the key again). Only the two windows are checked
    (cheaply, where the raw has them as objects): a hand-edited per-model limit shows until the
    snapshot is no longer fresh, at most `TRAY_TURN` poll intervals.
    """
    if not isinstance(data, dict):
        return None
    facts = data.get("line")
    usage = data.get("usage")
    if not isinstance(facts, dict) or not isinstance(usage, dict) or \
            type(facts.get("v")) is not int or facts["v"] != LINE_VERSION:
        return None
    try:
        fetched_at = _plain_time(data.get("fetched_at"))
        session = _saved_window(facts.get("session"), usage.get("five_hour"))
        weekly = _saved_window(facts.get("weekly"), usage.get("seven_day"))
        binding = _saved_binding(facts.get("binding"))
    except _NotPlain:
        return None
    return fetched_at, session, weekly, binding


def _saved_window(facts: object, raw: object) -> Span | None:
    if facts is None:
        if raw is not None:  # the parser reads a window from any object here
            raise _NotPlain
        return None
    if not isinstance(facts, list) or len(facts) != 3 or type(facts[2]) is not bool:
        raise _NotPlain
    used = _saved_number(facts[0], none_ok=True)
    when = None if facts[1] is None else _plain_time(facts[1])
    span = Span(used, when)
    if facts[2]:
        span.locked_reason = "locked"  # the line only says whether
    if raw is not None:  # else the parser took the window from `limits`: nothing cheap to check
        if not isinstance(raw, dict) or raw.get("utilization") != used:
            raise _NotPlain
        resets = raw.get("resets_at")
        if (None if resets is None else _plain_time(resets)) != when:
            raise _NotPlain
    return span


def _saved_binding(facts: object) -> tuple[str, float] | None:
    if facts is None:
        return None
    if not isinstance(facts, list) or len(facts) != 2 or not isinstance(facts[0], str):
        raise _NotPlain
    used = _saved_number(facts[1], none_ok=False)
    assert used is not None
    return facts[0], used


def _saved_number(value: object, *, none_ok: bool) -> float | None:
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            abs(value) > MAX_PERCENT or not math.isfinite(value):  # abs first: 10**400
        raise _NotPlain
    return float(value)


def is_fresh(fetched_at: datetime, now: datetime, interval: timedelta) -> bool:
    """Whether a snapshot is printed as it is, without asking the server: younger than the poll
    interval plus the tray's turn (`TRAY_TURN`)."""
    return now - fetched_at < interval * TRAY_TURN


def feed_is_known(fed: tuple[WindowLike | None, WindowLike | None], fetched_at: datetime,
                  known: tuple[WindowLike | None, WindowLike | None], now: datetime,
                  interval: timedelta) -> bool:
    """Whether the snapshot (`known` windows, saved at `fetched_at`) already says what the feed
    says: then nothing is saved. Claude Code calls many times a minute with the same numbers;
    a snapshot `FEED_RESAVE` of a poll interval old is written again, so the others see the
    feed is live."""
    return now - fetched_at < interval * FEED_RESAVE and same_window(known[0], fed[0]) and \
        same_window(known[1], fed[1])


def fast_line(now: datetime, interval: timedelta, feed: dict[str, Any] | None,
              cached: Cached) -> str | None:
    """The line `commands.statusline` prints when it has nothing to do but print, else None
    (the full path decides, and saves what is new).

    `feed` is `from_claude_code`'s answer, `cached` the snapshot (`saved_line` or
    `plain_snapshot`): with a feed the snapshot must already know it (`feed_is_known`) and the
    line is the feed's (which has no per-model limits); without one the snapshot must be fresh
    (`is_fresh`).
    """
    fetched_at, session, weekly, binding = cached
    if feed is not None:
        fed = plain_usage(feed)
        if fed is None or not feed_is_known(fed, fetched_at, (session, weekly), now, interval):
            return None
        return format_windows(fed[0], fed[1], None, now)
    if not is_fresh(fetched_at, now, interval):
        return None
    return format_windows(session, weekly, binding, now)
