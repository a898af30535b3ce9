"""The status line's fast path (`claude_pulse.fastline`, issue #19 item 1).

Three promises, each checked from outside where it can be: the fast path prints byte for byte
what the full path prints (both run as real processes over a table of snapshots, feeds and
configs); it imports none of the heavy modules (`-X importtime` of the installed console
script); and every case it must not answer reaches the full path, which then saves, logs,
tightens or refuses as before. The pure part (`core.line`) gets fast tables, and a property
test that `plain_usage` never reads an answer differently from `core.usage.parse_usage`.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_pulse.core import line, statusline
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.statusline import format_line
from claude_pulse.core.usage import parse_usage
from claude_pulse.errors import BadResponse
from claude_pulse.fake import samples
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.services.snapshot import SnapshotStore
from support.fixtures_server import seed_credentials

UTC = timezone.utc
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

# Never loaded when the fast path answers: what made the status line 5-8x the interpreter.
NOT_LOADED = ("claude_pulse.wiring", "claude_pulse.config", "claude_pulse.home",
              "claude_pulse.core.usage", "claude_pulse.commands", "logging", "dataclasses",
              "pathlib", "argparse", "typing", "inspect", "sqlite3", "ssl", "http", "urllib",
              "threading", "tkinter", "pystray", "PIL", "json", "re", "enum")


# -- the pure part ------------------------------------------------------------------------------


def window(util: Any, resets: Any = "absent", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"utilization": util, **extra}
    if resets != "absent":
        out["resets_at"] = resets
    return out


IN_2H = (NOW + timedelta(hours=2)).isoformat()
IN_3D = (NOW + timedelta(days=3)).isoformat()


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        pytest.param({"five_hour": window(42.0, IN_2H), "seven_day": window(20, IN_3D)}, True,
                     id="two-windows"),
        pytest.param({"five_hour": window(42.0, "2026-11-28T14:00:00Z"),
                      "seven_day": window(20, "2026-12-01T12:00:00.1234567+00:00")}, True,
                     id="z-and-seven-digit-fraction"),
        pytest.param({"five_hour": window(None, None), "seven_day": None}, True,
                     id="nulls"),
        pytest.param({}, True, id="empty"),
        pytest.param({"five_hour": window(5, IN_2H, limit_dollars=None), "tangelo": None,
                      "member_dashboard_available": False, "seven_day_opus": None}, True,
                     id="codename-nulls-and-scalars"),
        pytest.param(samples.SEVEN_DAY_NULL, False, id="scoped-window-sonnet"),
        pytest.param(samples.JULY_2026, False, id="july-2026-limits"),
        pytest.param(samples.MARCH_2026, False, id="march-2026-extra-usage"),
        pytest.param(samples.SEPT_2026, False, id="sept-2026"),
        pytest.param(samples.BINDING_FABLE, False, id="binding-fable"),
        pytest.param({"five_hour": window(5, IN_2H, locked_reason="spend_limit_reached")},
                     False, id="locked"),
        pytest.param({"five_hour": window(5, IN_2H, locked_reason=0)}, False,
                     id="locked-zero-is-not-false"),
        pytest.param({"five_hour": window(5, "1999-12-31T23:00:00+00:00")}, False,
                     id="time-out-of-range-is-repaired"),
        pytest.param({"five_hour": window(5, "soon")}, False, id="bad-time"),
        pytest.param({"five_hour": window(True, IN_2H)}, False, id="bool-utilization"),
        pytest.param({"five_hour": window(float("nan"), IN_2H)}, False, id="nan"),
        pytest.param({"five_hour": window(10**7, IN_2H)}, False, id="beyond-max-percent"),
        pytest.param({"nimbus_quill": window(0.0, None)}, False, id="unknown-window"),
        pytest.param({"seven_day_breakdown": {"rows": []}}, False, id="any-object"),
        pytest.param([1, 2], False, id="not-an-object"),
    ],
)
def test_plain_usage(raw: Any, plain: bool) -> None:
    got = line.plain_usage(raw)
    assert (got is not None) is plain
    if got is not None:
        assert_reads_the_same(raw, got)


def assert_reads_the_same(raw: Any, got: tuple[line.Span | None, line.Span | None]) -> None:
    usage = parse_usage(raw)
    assert usage.limits == () and usage.extra is None and usage.problems == ()
    for span, full in zip(got, (usage.session, usage.weekly), strict=True):
        if full is None:
            assert span is None
            continue
        assert span is not None
        assert (span.utilization, span.resets_at, span.locked_reason) == \
            (full.utilization, full.resets_at, full.locked_reason)


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**8, 10**8), st.floats(allow_nan=True),
    st.sampled_from(["", "x", IN_2H, "2026-11-28T14:00:00Z", "2026-11-28T14:00:00",
                     "1999-01-01T00:00:00+00:00", "2026-11-28T14:00:00.1234567-02:00",
                     " 2026-11-28T14:00:00+00:00 ", "spend_limit_reached"]),
    st.just({}), st.just([]), st.just({"utilization": 5}),
)
_windows = st.one_of(st.none(), _values, st.fixed_dictionaries(
    {}, optional={"utilization": _values, "resets_at": _values, "locked_reason": _values,
                  "limit_dollars": _values}))
_keys = st.sampled_from(["five_hour", "seven_day", "seven_day_opus", "seven_day_sonnet",
                         "limits", "extra_usage", "spend", "tangelo", "seven_day_breakdown",
                         "member_dashboard_available"])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _windows, max_size=5))
def test_plain_usage_never_reads_an_answer_differently(raw: dict[str, Any]) -> None:
    got = line.plain_usage(raw)
    if got is None:
        return  # the full path reads it (or refuses it); nothing to compare
    try:
        parse_usage(copy.deepcopy(raw))
    except BadResponse as exc:
        pytest.fail(f"plain_usage read an answer the parser refuses: {exc}")
    assert_reads_the_same(raw, got)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


def same_json(a: Any, b: Any) -> bool:
    # NaN is not equal to itself; compare the texts json would write instead.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.sampled_from(["", " ", "\n\t ", "\r\n"]), st.booleans())
def test_read_json_reads_what_json_loads_reads(value: Any, space: str, as_bytes: bool) -> None:
    text = space + json.dumps(value) + space
    data: str | bytes = text.encode("utf-8") if as_bytes else text
    assert same_json(line.read_json(data), json.loads(data))


@pytest.mark.parametrize(
    "data",
    ["", "   ", "{", '{"a": 1} x', '{"a": 1}{}', "[1,]", "NaN", "-Infinity", '"\\ud800"',
     '"\x01"', "\ufeff{}", b"\xef\xbb\xbf{}", '{"a": 1}'.encode("utf-16"), b"\xff\xfe",
     b'{"a": "\xff"}', b"\x00{}", "1e400", "[" * 100000 + "]" * 100000, "{\"a\": 1}\x0c"],
)
def test_read_json_fails_and_succeeds_where_json_loads_does(data: str | bytes) -> None:
    try:
        expected: Any = json.loads(data)
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc) if isinstance(exc, RecursionError) else ValueError):
            line.read_json(data)
    else:
        assert same_json(line.read_json(data), expected)


def spans(session: float | None, weekly: float | None) -> tuple[line.Span, line.Span]:
    return (line.Span(session, NOW + timedelta(hours=2)),
            line.Span(weekly, NOW + timedelta(days=3)))


INTERVAL = timedelta(seconds=180)


def feed(session: float, weekly: float, *, shift_s: float = 0.0) -> dict[str, Any]:
    reset = NOW + timedelta(hours=2, seconds=shift_s)
    return {"five_hour": {"utilization": session, "resets_at": reset.isoformat()},
            "seven_day": {"utilization": weekly,
                          "resets_at": (NOW + timedelta(days=3)).isoformat()}}


@pytest.mark.parametrize(
    ("age_s", "fed", "expected"),
    [
        pytest.param(5, None, "5h 42% · resets 2h · 7d 20%", id="fresh"),
        pytest.param(215, None, "5h 42% · resets 2h · 7d 20%", id="within-the-trays-turn"),
        pytest.param(216, None, None, id="past-the-trays-turn"),
        pytest.param(-30, None, "5h 42% · resets 2h · 7d 20%", id="clock-skew-ahead"),
        pytest.param(5, feed(42.0, 20.0, shift_s=40), "5h 42% · resets 2h · 7d 20%",
                     id="feed-the-snapshot-knows"),
        pytest.param(5, feed(43.0, 20.0), None, id="feed-with-new-numbers"),
        pytest.param(5, feed(42.0, 20.0, shift_s=90), None, id="feed-with-a-new-reset"),
        pytest.param(89, feed(42.0, 20.0), "5h 42% · resets 2h · 7d 20%",
                     id="feed-within-half-the-interval"),
        pytest.param(90, feed(42.0, 20.0), None, id="feed-half-an-interval-old: saved again"),
        pytest.param(5, {"five_hour": feed(42.0, 20.0)["five_hour"]}, None,
                     id="feed-missing-a-window"),
    ],
)
def test_fast_line(age_s: float, fed: dict[str, Any] | None, expected: str | None) -> None:
    session, weekly = spans(42.0, 20.0)
    cached = (NOW - timedelta(seconds=age_s), session, weekly, None)
    assert line.fast_line(NOW, INTERVAL, fed, cached) == expected


def test_fast_line_shows_the_binding_limit_but_the_feed_has_none() -> None:
    """As the full path: a snapshot's binding per-model limit is shown, but with Claude Code's
    feed the line is the feed's, which knows only the two windows."""
    session, weekly = spans(42.0, 20.0)
    cached = (NOW - timedelta(seconds=5), session, weekly, ("Fable", 81.0))
    assert line.fast_line(NOW, INTERVAL, None, cached) == \
        "5h 42% · resets 2h · 7d 20% · Fable 81%"
    assert line.fast_line(NOW, INTERVAL, feed(42.0, 20.0), cached) == \
        "5h 42% · resets 2h · 7d 20%"


# -- the line's facts saved with the snapshot ----------------------------------------------------


def shifted(sample: dict[str, Any], to: datetime) -> dict[str, Any]:
    """`sample` with every reset time moved by the same amount, the first one to `to`."""
    out = copy.deepcopy(sample)
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("resets_at"), str):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    if found:
        delta = to - line.read_time(found[0]["resets_at"])  # type: ignore[operator]
        for node in found:
            node["resets_at"] = (line.read_time(node["resets_at"]) + delta).isoformat()  # type: ignore[operator]
    return out


def with_limit(sample: dict[str, Any], percent: float) -> dict[str, Any]:
    out = copy.deepcopy(sample)
    for limit in out["limits"]:
        if limit["kind"] == "weekly_scoped":
            limit["percent"] = percent
    return out


def locked(sample: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(sample)
    out["five_hour"]["locked_reason"] = "spend_limit_reached"
    return out


# The real shapes (fake/samples): per-model limits binding and not, extra usage and spend, the
# windows only in limits[], a lock, legacy scoped windows, overage.
REAL = {
    "july-2026-fable-binds": lambda: samples.JULY_2026,
    "july-2026-fable-below-the-week": lambda: with_limit(samples.JULY_2026, 30),
    "sept-2026-extra-usage": lambda: samples.SEPT_2026,
    "sept-2026-breakdown": lambda: samples.SEPT_2026_BREAKDOWN,
    "march-2026-legacy": lambda: samples.MARCH_2026,
    "windows-only-in-limits": lambda: samples.BINDING_FABLE,
    "eur-over-cap": lambda: samples.EUR_OVER_CAP,
    "over-100": lambda: samples.OVER_100,
    "seven-day-null": lambda: samples.SEVEN_DAY_NULL,
    "locked": lambda: locked(samples.SEPT_2026),
}


def saved(tmp_path: Path, raw: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    """snapshot.json's content as `SnapshotStore.save` writes it (the real saver)."""
    path = tmp_path / "snapshot.json"
    SnapshotStore(path).save(Snapshot(fetched_at, parse_usage(raw), raw))
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize("name", list(REAL))
@pytest.mark.parametrize("reset_in", [timedelta(hours=1, minutes=12), timedelta(seconds=30),
                                      -timedelta(minutes=3)], ids=["1h12m", "30s", "passed"])
def test_the_saved_facts_print_what_format_line_prints(tmp_path: Path, name: str,
                                                       reset_in: timedelta) -> None:
    raw = shifted(REAL[name](), NOW + reset_in)
    data = saved(tmp_path, raw, NOW - timedelta(seconds=5))
    assert data["line"]["v"] == line.LINE_VERSION
    cached = line.saved_line(data)
    assert cached is not None
    for now in (NOW, NOW + timedelta(minutes=1), NOW + timedelta(hours=3)):
        assert line.format_windows(cached[1], cached[2], cached[3], now) == \
            format_line(parse_usage(raw), now)
    assert line.fast_line(NOW, INTERVAL, None, cached) == format_line(parse_usage(raw), NOW)


_limit_lists = st.lists(st.fixed_dictionaries(
    {"kind": st.sampled_from(["session", "weekly_all", "weekly_scoped", "other", ""])},
    optional={"percent": _values, "resets_at": _values,
              "scope": st.sampled_from([None, {"model": {"display_name": "Fable"}},
                                        {"model": {"id": "opus"}}, {"model": None}])}),
    max_size=4)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _windows, max_size=5), _limit_lists,
       st.sampled_from([NOW, NOW + timedelta(hours=2, seconds=30), NOW + timedelta(days=3)]))
def test_the_saved_facts_never_print_other_than_format_line(
        raw: dict[str, Any], limits: list[dict[str, Any]], now: datetime) -> None:
    raw = {**raw, "limits": limits} if limits else raw
    try:
        usage = parse_usage(copy.deepcopy(raw))
    except BadResponse:
        return  # never saved
    facts = statusline.line_facts(usage)
    assert facts is not None  # the parser keeps only finite numbers
    # As the file holds it: through JSON and back.
    data = json.loads(json.dumps({"fetched_at": NOW.isoformat(), "usage": raw, "line": facts}))
    cached = line.saved_line(data)
    # A repaired time (`problems`: the fetcher does not share such an answer) may send it to the
    # full path; any other save is read back.
    assert cached is not None or usage.problems
    if cached is not None:
        assert line.format_windows(cached[1], cached[2], cached[3], now) == \
            format_line(usage, now)


def test_an_older_versions_snapshot_and_an_unknown_version_are_not_read(tmp_path: Path) -> None:
    data = saved(tmp_path, samples.JULY_2026, NOW)
    assert line.saved_line(data) is not None
    assert line.saved_line({k: v for k, v in data.items() if k != "line"}) is None
    assert line.saved_line({**data, "line": {**data["line"], "v": line.LINE_VERSION + 1}}) is None
    assert line.saved_line({**data, "line": {**data["line"], "v": True}}) is None


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d["usage"]["five_hour"].update(utilization=99.0),
                     id="raw-session-number-edited"),
        pytest.param(lambda d: d["usage"]["seven_day"].update(resets_at="2026-12-01T00:00:00Z"),
                     id="raw-weekly-reset-edited"),
        pytest.param(lambda d: d["usage"].update(five_hour=15), id="raw-session-not-an-object"),
        pytest.param(lambda d: d["line"].update(session=None), id="facts-session-removed"),
        pytest.param(lambda d: d["line"]["session"].__setitem__(0, "15"), id="facts-not-a-number"),
        pytest.param(lambda d: d["line"]["session"].__setitem__(0, float("nan")), id="facts-nan"),
        pytest.param(lambda d: d["line"]["session"].__setitem__(2, 1), id="facts-lock-not-bool"),
        pytest.param(lambda d: d["line"]["session"].pop(), id="facts-short"),
        pytest.param(lambda d: d["line"].update(binding=["Fable"]), id="binding-short"),
        pytest.param(lambda d: d["line"].update(binding=[3, 81.0]), id="binding-name-not-text"),
        pytest.param(lambda d: d["line"].update(binding=["Fable", None]), id="binding-no-number"),
        pytest.param(lambda d: d["line"].update(binding=["Fable", 10**400]), id="binding-huge"),
        pytest.param(lambda d: d["line"].update(weekly=[48.0, "soon", False]), id="facts-bad-time"),
        pytest.param(lambda d: d.update(line=[1]), id="facts-not-an-object"),
        pytest.param(lambda d: d.update(fetched_at="x"), id="bad-fetched-at"),
    ],
)
def test_facts_the_raw_usage_contradicts_or_that_are_malformed_are_not_read(
        tmp_path: Path, edit: Callable[[dict[str, Any]], Any]) -> None:
    """A hand edit or a bug: the raw answer is the truth (the caller reads it, or the full path
    does and its next save writes the facts again)."""
    data = saved(tmp_path, samples.JULY_2026, NOW)
    edit(data)
    assert line.saved_line(data) is None


# -- the two paths as processes -----------------------------------------------------------------

# The fast path runs on POSIX; on Windows (owner SIDs and ACLs need ctypes) the full path answers.
posix_only = pytest.mark.skipif(os.name != "posix", reason="the fast path is POSIX only")


def console_script() -> list[str]:
    """The installed `claude-pulse` wrapper, as a user (and Claude Code) runs it."""
    script = Path(sys.executable).with_name("claude-pulse")
    if script.exists():
        return [sys.executable, "-X", "importtime", str(script)]
    wrapper = "import sys; from claude_pulse.cli import main; sys.exit(main())"
    return [sys.executable, "-X", "importtime", "-c", wrapper]


# The full path, forced: the same `cli.main`, with the fast path answering "not mine".
FULL = ("import sys; import claude_pulse.fastline as f; f.answer = lambda: (None, False, None); "
        "from claude_pulse.cli import main; sys.exit(main(['statusline']))")


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[bytes]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        err = proc.stderr.decode("utf-8", "replace")
        self.imported = {ln.rsplit("|", 1)[-1].strip() for ln in err.splitlines()
                         if ln.startswith("import time:")}
        self.err = "\n".join(ln for ln in err.splitlines() if not ln.startswith("import time:"))
        assert "Traceback" not in self.err, self.err

    @property
    def line(self) -> str:
        return self.out.decode("utf-8").strip()

    @property
    def fast(self) -> bool:
        return "claude_pulse.fastline" in self.imported and \
            "claude_pulse.wiring" not in self.imported


class Home:
    def __init__(self, root: Path, fake: FakeAnthropic) -> None:
        self.root = root
        self.fake = fake
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config(None)

    def config(self, values: dict[str, Any] | None, *, urls: bool = True) -> None:
        # The fake server's URLs: a full path that fetches must never reach Anthropic. (Without
        # them, no login is saved either, so no request can go anywhere.)
        fake = self.fake.config_overrides() if urls else {}
        (self.root / "config.json").write_text(json.dumps({**fake, **(values or {})}))

    def snapshot(self, usage: dict[str, Any], age: timedelta, source: str = "api") -> None:
        now = datetime.now(UTC)
        data = {"fetched_at": (now - age).isoformat(), "source": source, "usage": usage}
        path = self.root / "snapshot.json"
        path.write_text(json.dumps(data))
        path.chmod(0o600)

    def save(self, usage: dict[str, Any], age: timedelta) -> None:
        """The snapshot as the full path saves it (`SnapshotStore.save`, with the line's facts)."""
        fetched_at = datetime.now(UTC) - age
        SnapshotStore(self.root / "snapshot.json").save(
            Snapshot(fetched_at, parse_usage(usage), usage))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS",)}
        env["CLAUDE_PULSE_HOME"] = str(self.root)
        return env

    def run(self, stdin: bytes | None, *, full: bool = False) -> Run:
        cmd = [sys.executable, "-c", FULL] if full else [*console_script(), "statusline"]
        proc = subprocess.run(
            cmd, input=stdin, stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True, env=self.env(), timeout=60, check=False)
        return Run(proc)

    def snapshot_source(self) -> str | None:
        path = self.root / "snapshot.json"
        return json.loads(path.read_text())["source"] if path.exists() else None

    def history_rows(self) -> int:
        path = self.root / "history.sqlite3"
        if not path.exists():
            return 0
        conn = sqlite3.connect(path)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
        finally:
            conn.close()

    def cli_log(self) -> str:
        path = self.root / "logs" / "cli.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def home(pulse_home: Path, fake_server: FakeAnthropic) -> Home:
    return Home(pulse_home, fake_server)


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


# Reset times 30 s past a whole minute, so both runs (a second or two apart) show the same one.
H1 = timedelta(hours=1, minutes=12, seconds=30)
D3 = timedelta(days=3, seconds=30)


def two(session: Any = 42.0, weekly: Any = 20.0, s_in: timedelta = H1,
        w_in: timedelta = D3) -> dict[str, Any]:
    return {"five_hour": {"utilization": session, "resets_at": iso(s_in)},
            "seven_day": {"utilization": weekly, "resets_at": iso(w_in)}}


def claude_code(session: float = 42.0, weekly: float = 20.0, s_in: timedelta = H1,
                w_in: timedelta = D3) -> bytes:
    now = time.time()
    return json.dumps({
        "hook_event_name": "Status", "session_id": "s1", "model": {"display_name": "Opus"},
        "cost": {"total_cost_usd": 0.01},
        "rate_limits": {
            "five_hour": {"used_percentage": session,
                          "resets_at": int(now + s_in.total_seconds())},
            "seven_day": {"used_percentage": weekly, "resets_at": int(now + w_in.total_seconds())},
        },
    }).encode()


Case = tuple[dict[str, Any] | None, Callable[[], dict[str, Any]], timedelta,
             Callable[[], bytes | None]]

CASES: dict[str, Case] = {
    "fresh-no-stdin": (None, two, timedelta(seconds=5), lambda: None),
    "fresh-garbage-stdin": (None, two, timedelta(seconds=5), lambda: b"not json at all"),
    "fresh-feed-without-rate-limits": (None, two, timedelta(seconds=185),
                                       lambda: b'{"model": {"id": "x"}}'),
    "feed-the-snapshot-knows": (None, two, timedelta(seconds=20), claude_code),
    "feed-over-budget": (None, lambda: two(10.0, 90.0, w_in=timedelta(days=1, seconds=30)),
                         timedelta(seconds=20),
                         lambda: claude_code(10.0, 90.0, w_in=timedelta(days=1, seconds=30))),
    "every-setting-valid": (
        {"clock_format": "12h", "poll_interval_seconds": 600, "notification_thresholds": [50, 90],
         "weekly_notification_thresholds": None, "login_source": "claude-code",
         "max_requests_per_hour": 10, "show_charts": False, "callback_port": 0,
         "user_agent": "pulse-test"},
        two, timedelta(seconds=650), lambda: None),
    "session-reset-passed": (None, lambda: two(s_in=-timedelta(minutes=3)),
                             timedelta(seconds=5), lambda: None),
    "weekly-over-budget": (None, lambda: two(10.0, 90.0, w_in=timedelta(days=1, seconds=30)),
                           timedelta(seconds=5), lambda: None),
    "over-100-last-minute": (None, lambda: two(104.5, 97.0, s_in=timedelta(seconds=45)),
                             timedelta(seconds=5), lambda: None),
    "nulls": (None, lambda: {"five_hour": {"utilization": None, "resets_at": None},
                             "seven_day": None, "seven_day_opus": None, "tangelo": None,
                             "member_dashboard_available": False},
              timedelta(seconds=5), lambda: None),
    "session-without-reset": (None, lambda: {"five_hour": {"utilization": 7, "resets_at": None}},
                              timedelta(seconds=5), lambda: None),
    "z-times": (None, lambda: {k: {**v, "resets_at": v["resets_at"].replace("+00:00", "Z")}
                               for k, v in two().items()}, timedelta(seconds=5), lambda: None),
    "no-windows": (None, dict, timedelta(seconds=5), lambda: None),
}


@posix_only
@pytest.mark.parametrize("name", list(CASES))
def test_the_fast_path_prints_what_the_full_path_prints(home: Home, name: str) -> None:
    config, usage, age, stdin = CASES[name]
    home.config(config)
    home.snapshot(usage(), age)
    before = (home.root / "snapshot.json").read_bytes()
    feed_bytes = stdin()
    fast = home.run(feed_bytes)
    full = home.run(feed_bytes, full=True)
    assert fast.fast, f"the fast path did not answer: {sorted(fast.imported)[:5]}…"
    assert not full.fast
    assert (fast.code, fast.out) == (full.code, full.out)
    assert fast.out.endswith(b"\n") and fast.out.count(b"\n") == 1
    assert fast.err == "" and full.err == ""
    # Neither had anything to save: the snapshot is as it was, no history, no log.
    assert (home.root / "snapshot.json").read_bytes() == before
    assert home.history_rows() == 0 and home.cli_log() == ""


def feed_of(usage: dict[str, Any]) -> bytes:
    """Claude Code's stdin with the same two windows as `usage` (its whole-second epochs)."""
    now = datetime.now(UTC)
    left = [line.read_time(usage[k]["resets_at"]) - now  # type: ignore[operator]
            for k in ("five_hour", "seven_day")]
    return claude_code(usage["five_hour"]["utilization"], usage["seven_day"]["utilization"],
                       left[0], left[1])


def live(name: str) -> dict[str, Any]:
    return shifted(REAL[name](), datetime.now(UTC) + H1)


@posix_only
@pytest.mark.parametrize(("name", "with_feed"), [
    *((name, False) for name in REAL),
    ("july-2026-fable-binds", True), ("sept-2026-extra-usage", True), ("locked", True)])
def test_the_fast_path_prints_an_api_snapshot_as_the_full_path_does(
        home: Home, name: str, with_feed: bool) -> None:
    """The tray's (or a fetching status line's) snapshot of a real answer: per-model limits,
    extra usage, spend. The fast path reads the line's facts saved with it."""
    usage = live(name)
    home.save(usage, timedelta(seconds=20))
    before = (home.root / "snapshot.json").read_bytes()
    stdin = feed_of(usage) if with_feed else None
    fast = home.run(stdin)
    full = home.run(stdin, full=True)
    assert fast.fast, f"the fast path did not answer: {fast.line}"
    assert not full.fast
    assert (fast.code, fast.out) == (full.code, full.out)
    assert fast.err == "" and full.err == ""
    assert (home.root / "snapshot.json").read_bytes() == before
    assert home.history_rows() == 0 and home.cli_log() == ""


@posix_only
def test_what_the_fast_path_prints_of_real_answers(home: Home) -> None:
    """The lines themselves (the byte-identical table above does not say what they are)."""
    for name, expected in [
            ("july-2026-fable-binds", "5h 15% · resets 1h12m · 7d 48% ▲ · Fable 81%"),
            ("july-2026-fable-below-the-week", "5h 15% · resets 1h12m · 7d 48% ▲"),
            ("sept-2026-extra-usage", "5h 51% · resets 1h12m · 7d 9%"),
            ("locked", "5h 51% locked · resets 1h12m · 7d 9%")]:
        home.save(live(name), timedelta(seconds=20))
        run = home.run(None)
        assert run.fast and (run.code, run.line) == (0, expected), name


@posix_only
def test_an_api_answer_the_full_path_fetched_is_printed_by_the_fast_path_next(
        home: Home) -> None:
    """From outside, end to end: no snapshot, so the full path asks the fake server (a July 2026
    answer) and saves it; the next status line is the fast path's, and the same."""
    seed_credentials(home.root, home.fake)
    home.fake.usage = live("july-2026-fable-binds")
    first = home.run(None)
    assert not first.fast and first.code == 0
    assert len(home.fake.requests_to("usage")) == 1
    assert json.loads((home.root / "snapshot.json").read_text())["line"]["binding"] == \
        ["Fable", 81.0]
    again = home.run(None)
    assert again.fast and (again.code, again.out) == (first.code, first.out)
    assert again.line.endswith("Fable 81%") and len(home.fake.requests_to("usage")) == 1


@posix_only
@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d["usage"]["five_hour"].update(utilization=77.0),
                     id="raw-edited-by-hand"),
        pytest.param(lambda d: d["line"].update(v=line.LINE_VERSION + 1), id="a-newer-version"),
        pytest.param(lambda d: d.pop("line"), id="an-older-version-saved-it"),
    ],
)
def test_facts_that_cannot_be_trusted_leave_the_line_to_the_full_path(
        home: Home, edit: Callable[[dict[str, Any]], Any]) -> None:
    """The raw answer is the truth: the full path prints what it says."""
    home.save(live("july-2026-fable-binds"), timedelta(seconds=20))
    path = home.root / "snapshot.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    run = home.run(None)
    assert not run.fast and run.code == 0
    assert run.line == home.run(None, full=True).line
    shown = "77%" if data["usage"]["five_hour"]["utilization"] == 77.0 else "15%"
    assert run.line.startswith(f"5h {shown} ·") and run.line.endswith("Fable 81%")


@posix_only
def test_the_fast_path_imports_only_what_it_needs(home: Home) -> None:
    """The behavioural contract of issue #19: the answer without the full machinery. (A config
    that sets a URL also loads urllib.parse, to check it.)"""
    home.config({"clock_format": "12h"}, urls=False)
    home.snapshot(two(), timedelta(seconds=5))
    for stdin in (None, claude_code()):
        run = home.run(stdin)
        assert run.fast and run.line == "5h 42% · resets 1h12m · 7d 20%"
        loaded = sorted(m for m in run.imported
                        if any(m == n or m.startswith(n + ".") for n in NOT_LOADED))
        assert loaded == []
        ours = sorted(m for m in run.imported if m.startswith("claude_pulse"))
        assert ours == ["claude_pulse", "claude_pulse.cli", "claude_pulse.config_keys",
                        "claude_pulse.core", "claude_pulse.core.line", "claude_pulse.core.pace",
                        "claude_pulse.fastline", "claude_pulse.home_trust",
                        "claude_pulse.platform", "claude_pulse.platform.stdin"]


# -- what the fast path hands over ------------------------------------------------------------


@posix_only
def test_new_numbers_are_saved_by_the_full_path(home: Home) -> None:
    home.snapshot(two(), timedelta(seconds=20))
    run = home.run(claude_code(55.0, 20.0))
    assert not run.fast and (run.code, run.line) == (0, "5h 55% · resets 1h12m · 7d 20%")
    assert home.snapshot_source() == "claude-code" and home.history_rows() == 1
    # Now the snapshot knows them: the next call is the fast path's, and writes nothing.
    again = home.run(claude_code(55.0, 20.0))
    assert again.fast and again.line == run.line and home.history_rows() == 1


@posix_only
def test_a_feed_half_an_interval_after_the_snapshot_is_saved_again(home: Home) -> None:
    home.snapshot(two(), timedelta(seconds=100))
    run = home.run(claude_code())
    assert not run.fast and run.line == "5h 42% · resets 1h12m · 7d 20%"
    assert home.snapshot_source() == "claude-code" and home.history_rows() == 1


@posix_only
@pytest.mark.parametrize(
    ("config", "logged"),
    [
        pytest.param({"poll_interval_seconds": 5}, "poll_interval_seconds must be",
                     id="invalid-value"),
        pytest.param({"pol_interval": 60}, "unknown key 'pol_interval'", id="unknown-key"),
    ],
)
def test_a_config_with_a_problem_goes_to_the_full_path(home: Home, config: dict[str, Any],
                                                       logged: str) -> None:
    home.config(config)
    home.snapshot(two(), timedelta(seconds=5))
    run = home.run(None)
    assert not run.fast and (run.code, run.line) == (0, "5h 42% · resets 1h12m · 7d 20%")
    assert logged in home.cli_log()


@posix_only
def test_a_config_that_is_not_json_goes_to_the_full_path(home: Home) -> None:
    (home.root / "config.json").write_text("{not json")
    home.snapshot(two(), timedelta(seconds=5))
    run = home.run(None)
    assert not run.fast and run.code == 0
    assert "cannot be read" in home.cli_log()


@posix_only
def test_a_home_others_can_read_is_tightened_by_the_full_path(home: Home) -> None:
    home.snapshot(two(), timedelta(seconds=5))
    home.root.chmod(0o755)
    run = home.run(None)
    assert not run.fast and run.code == 0
    assert home.root.stat().st_mode & 0o777 == 0o700


@posix_only
@pytest.mark.parametrize("name", ["snapshot.json", "planted.json"])
def test_a_file_others_can_write_is_refused_by_the_full_path(home: Home, name: str) -> None:
    home.snapshot(two(), timedelta(seconds=5))
    (home.root / name).touch()
    (home.root / name).chmod(0o666)
    run = home.run(None)
    assert not run.fast
    assert (run.code, run.line) == (1, "Claude Pulse: cannot start (run `claude-pulse status`)")


@posix_only
@pytest.mark.parametrize(
    ("usage", "shows"),
    [
        pytest.param(lambda: {**two(), "limits": copy.deepcopy(samples.BINDING_FABLE["limits"])},
                     "Fable 100%", id="per-model-limit"),
        pytest.param(lambda: {"five_hour": {**two()["five_hour"],
                                            "locked_reason": "spend_limit_reached"}},
                     "5h 42% locked", id="locked"),
        pytest.param(lambda: {**two(), "extra_usage": {"is_enabled": True, "used_credits": 5.0}},
                     "5h 42% · resets 1h12m · 7d 20%", id="extra-usage"),
    ],
)
def test_a_snapshot_that_is_not_plain_goes_to_the_full_path(
        home: Home, usage: Callable[[], dict[str, Any]], shows: str) -> None:
    """Written without the line's facts (`Home.snapshot`: as an older version saves it)."""
    home.snapshot(usage(), timedelta(seconds=5))  # built now: its reset times follow the clock
    run = home.run(None)
    assert not run.fast and run.code == 0 and shows in run.line


@posix_only
def test_without_a_snapshot_the_full_path_answers(home: Home) -> None:
    run = home.run(None)
    assert not run.fast and (run.code, run.line) == (1, "Claude Pulse: not logged in")


@posix_only
def test_a_stale_snapshot_goes_to_the_full_path(home: Home) -> None:
    home.snapshot(two(), timedelta(minutes=30))
    run = home.run(None)  # not logged in: the full path says the numbers are old
    assert not run.fast
    assert (run.code, run.line) == (0, "5h 42% · resets 1h12m · 7d 20% (stale 30m)")
    assert len(home.fake.requests_to("usage")) == 0


@posix_only
def test_a_terminal_goes_to_the_full_path(home: Home) -> None:
    """A person at a terminal gets the console's own encoding (platform.console), not ours."""
    import pty

    home.snapshot(two(), timedelta(seconds=5))
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([*console_script(), "statusline"], stdin=subprocess.DEVNULL,
                              stdout=follower, stderr=subprocess.PIPE, env=home.env(),
                              timeout=60, check=False)
        os.close(follower)
        follower = -1
        out = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    run = Run(subprocess.CompletedProcess(proc.args, proc.returncode, out, proc.stderr))
    assert not run.fast and run.code == 0
    assert run.out.replace(b"\r\n", b"\n").decode() == "5h 42% · resets 1h12m · 7d 20%\n"


@pytest.mark.skipif(os.name == "posix", reason="Windows: the full path answers")
def test_on_windows_the_full_path_answers(home: Home) -> None:
    home.snapshot(two(), timedelta(seconds=5))
    run = home.run(claude_code())
    assert not run.fast and (run.code, run.line) == (0, "5h 42% · resets 1h12m · 7d 20%")
