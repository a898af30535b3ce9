"""Shared helpers for the benchmark scripts in `bench/` (not a benchmark itself).

What lives here: statistics and the JSON results file (`bench/results/<name>.json`); a home
folder (`CLAUDE_PULSE_HOME`) wired to the in-package fake Anthropic server, with saved
credentials and optionally a snapshot; a private Xvfb and trayer, started by
`tests/support/xharness.py` exactly as the GUI tests start them; reading the docked tray icon's
pixels with python-xlib; per-process counters from `/proc` (context switches summed over every
thread in `/proc/PID/task/*/status`, CPU = utime+stime from `/proc/PID/stat`, `VmRSS`); and
`Cleanup`, which ends every process a script started (its whole process group) on exit, Ctrl-C,
SIGTERM or the script's own time limit.

Also the interleaved timing of commands (`Timed`, `interleave`, `ratio_table`: each round runs
every command once in a rotating order, and the figures are medians and ratios to a baseline)
and `ensure_bytecode`.

Scripts need only Python (the project's venv), Xvfb and trayer; nothing here needs root.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# Make `import claude_pulse` work from a checkout even when the package is not installed, and
# share the tests' support modules (the X harness, the fakes).
try:
    import claude_pulse  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from support import xharness  # noqa: E402
from support.fakes import usage_payload  # noqa: E402

# ---- statistics and results ----------------------------------------------------------------


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """median, min, max and the number of runs (values in the caller's unit)."""
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "runs": 0}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def fmt(s: dict[str, Any], unit: str = "ms", digits: int = 1) -> str:
    return (f"median {s['median']:.{digits}f} {unit} (min {s['min']:.{digits}f}, "
            f"max {s['max']:.{digits}f}, {s['runs']} runs)")


def verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else "MISSED"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    return info


def write_results(name: str, data: dict[str, Any]) -> Path:
    """`bench/results/<name>.json`, written atomically, with the time and the machine."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {"bench": name, "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), **data}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    print(f"results: {path.relative_to(REPO)}")
    return path


# ---- process hygiene -----------------------------------------------------------------------


class TimeLimit(Exception):
    """The script ran past its own time limit."""


class Cleanup:
    """Ends every process started through it, whatever happens (exit, Ctrl-C, SIGTERM, limit).

    Each child starts in its own session, so killing its process group also ends anything it
    started (a stuck app's helpers). `limit_s` arms SIGALRM, which raises `TimeLimit` in the
    main thread and so runs the same cleanup.
    """

    def __init__(self, limit_s: float | None = None) -> None:
        self._procs: list[subprocess.Popen[Any]] = []
        self._dirs: list[Path] = []
        self._callbacks: list[Any] = []
        self._limit_s = limit_s
        self._old: dict[int, Any] = {}

    def __enter__(self) -> Cleanup:
        def on_term(signum: int, _frame: FrameType | None) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        def on_alarm(_signum: int, _frame: FrameType | None) -> None:
            raise TimeLimit(f"time limit of {self._limit_s:.0f} s reached")

        # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then
        # never installs its KeyboardInterrupt handler.
        for name in ("SIGTERM", "SIGINT", "SIGHUP"):  # no SIGHUP on Windows
            if hasattr(signal, name):
                sig = getattr(signal, name)
                self._old[sig] = signal.signal(sig, on_term)
        if self._limit_s:
            self._old[signal.SIGALRM] = signal.signal(signal.SIGALRM, on_alarm)
            signal.alarm(int(self._limit_s) + 1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._limit_s:
            signal.alarm(0)
        for callback in reversed(self._callbacks):
            with contextlib.suppress(Exception):
                callback()
        for proc in reversed(self._procs):
            stop_process(proc)
        for folder in self._dirs:
            shutil.rmtree(folder, ignore_errors=True)
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def popen(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        kwargs.setdefault("start_new_session", sys.platform != "win32")
        proc: subprocess.Popen[Any] = subprocess.Popen(list(args), **kwargs)
        self._procs.append(proc)
        return proc

    def tempdir(self, prefix: str = "pulse-bench-") -> Path:
        folder = Path(tempfile.mkdtemp(prefix=prefix))
        self._dirs.append(folder)
        return folder

    def on_exit(self, callback: Any) -> None:
        self._callbacks.append(callback)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> int | None:
    """SIGTERM the child's process group, then SIGKILL it; returns the exit code."""
    if sys.platform == "win32":  # no process groups to signal: TerminateProcess
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=timeout)
        return proc.returncode
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
    else:
        # The leader is gone; make sure nothing it left in its group lingers.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode


# ---- the app's home folder and the fake server ---------------------------------------------


# A steady state late in the week: the weekly window resets in 12 h, so the chart and forecast
# read 6.5 days of one-a-minute samples (`fill_history`).
LATE_IN_WEEK = timedelta(hours=12)
HISTORY_DAYS = 6.5


def start_fake(cleanup: Cleanup, usage: dict[str, Any] | None = None) -> Any:
    """The in-package fake Anthropic on 127.0.0.1, in this process (a thread)."""
    from claude_pulse.fake.anthropic import FakeAnthropic

    fake = FakeAnthropic()
    if usage is not None:
        fake.usage = usage
    fake.start()
    cleanup.on_exit(fake.stop)
    return fake


def make_home(cleanup: Cleanup, fake: Any, *, logged_in: bool = True,
              snapshot_age_s: float | None = None, config: dict[str, Any] | None = None,
              usage: dict[str, Any] | None = None) -> Path:
    """A CLAUDE_PULSE_HOME pointing at `fake`, with saved credentials (and a snapshot)."""
    from claude_pulse.core.snapshot import Snapshot
    from claude_pulse.core.tokens import TokenSet
    from claude_pulse.core.usage import parse_usage
    from claude_pulse.services.credentials import CredentialStore
    from claude_pulse.services.snapshot import SnapshotStore

    home = cleanup.tempdir("pulse-home-")
    os.chmod(home, 0o700)
    cfg = {**(fake.config_overrides() if fake is not None else {}), "callback_port": 0,
           **(config or {})}
    (home / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    if logged_in and fake is not None:
        tok = fake.issue_tokens()
        CredentialStore(home / "credentials.json").save(TokenSet(
            access_token=tok["access_token"], refresh_token=tok["refresh_token"],
            expires_at=datetime.now(timezone.utc) + timedelta(seconds=tok["expires_in"]),
            scope=tok["scope"], email=tok["account"]["email_address"]))
    if snapshot_age_s is not None:
        now = datetime.now(timezone.utc)
        raw = usage or usage_payload(now=now)
        SnapshotStore(home / "snapshot.json").save(
            Snapshot(now - timedelta(seconds=snapshot_age_s), parse_usage(raw), raw))
    return home


def cli_command() -> list[str]:
    """How a user runs the CLI: the `claude-pulse` console script next to this Python."""
    script = Path(sys.executable).with_name("claude-pulse")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "claude_pulse"]


def app_env(home: Path, *, display: str | None = None, scratch: Path | None = None,
            extra: dict[str, str] | None = None) -> dict[str, str]:
    """The app's environment: its own home, the private display, no session bus.

    XDG folders point into `scratch`, so "start at login" never touches the real desktop.
    """
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHONWARNINGS", "PYTHONPATH")}
    env["CLAUDE_PULSE_HOME"] = str(home)
    env["NO_AT_BRIDGE"] = "1"
    if display is not None:
        env["DISPLAY"] = display
    else:
        env.pop("DISPLAY", None)
    if scratch is not None:
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                         ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "runtime")):
            path = scratch / sub
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            env[var] = str(path)
    env.update(extra or {})
    return env


# ---- Xvfb and trayer -----------------------------------------------------------------------


def start_xvfb(cleanup: Cleanup) -> str:
    """A private Xvfb (the tests' screen size) on a display number it picks itself; returns
    ":N". Ended with the script."""
    try:
        return xharness.start_xvfb(popen=cleanup.popen)[1]
    except xharness.HarnessError as exc:
        raise SystemExit(f"bench: {exc}") from None


def start_trayer(cleanup: Cleanup, display: str) -> subprocess.Popen[Any]:
    """trayer at the top right, as the GUI tests run it; returns once it owns the tray."""
    try:
        return xharness.start_trayer(display, popen=cleanup.popen)
    except xharness.HarnessError as exc:
        raise SystemExit(f"bench: {exc}") from None


def start_tray_display(cleanup: Cleanup) -> str:
    """A private Xvfb with trayer owning its tray (the tray benches' screen); returns ":N"."""
    display = start_xvfb(cleanup)
    start_trayer(cleanup, display)
    return display


@dataclass(frozen=True)
class TrayHome:
    fake: Any
    home: Path
    env: dict[str, str]


def tray_home(cleanup: Cleanup, display: str, usage: dict[str, Any] | None = None, *,
              scratch: Path | None = None) -> TrayHome:
    """One tray app's world: a fake server answering `usage`, a logged-in home pointing at it,
    and the app's environment on `display` (pystray's xorg backend; XDG folders in `scratch`,
    a fresh folder unless given)."""
    fake = start_fake(cleanup, usage)
    home = make_home(cleanup, fake)
    env = app_env(home, display=display, scratch=scratch or cleanup.tempdir(),
                  extra={"PYSTRAY_BACKEND": "xorg"})
    return TrayHome(fake, home, env)


@dataclass(frozen=True)
class Docked:
    window: int
    width: int
    height: int


class XConnection:
    """One python-xlib connection to the private display, for reading the tray icon."""

    def __init__(self, display: str) -> None:
        from Xlib import display as xdisplay

        self.d = xdisplay.Display(display)
        self.root = self.d.screen().root
        self._xembed = self.d.intern_atom("_XEMBED_INFO")
        self._tray = self.d.intern_atom("_NET_SYSTEM_TRAY_S0")

    def __enter__(self) -> XConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.d.close()

    def tray_owned(self) -> bool:
        from Xlib import X

        return bool(self.d.get_selection_owner(self._tray) != X.NONE)

    def docked_icons(self) -> list[Docked]:
        """Viewable `_XEMBED_INFO` windows below a top-level window (docked in the tray)."""
        from Xlib import X
        from Xlib.error import XError

        found: list[Docked] = []

        def walk(window: Any, depth: int) -> None:
            try:
                children = window.query_tree().children
            except XError:
                return
            for child in children:
                try:
                    if depth > 0 and child.get_attributes().map_state == X.IsViewable and \
                            child.get_full_property(self._xembed, X.AnyPropertyType) is not None:
                        geom = child.get_geometry()
                        found.append(Docked(child.id, geom.width, geom.height))
                except XError:
                    continue
                walk(child, depth + 1)

        walk(self.root, 0)
        return found

    def refresh(self, icon: Docked) -> Docked:
        """The same window with its current size."""
        from Xlib.error import XError

        try:
            geom = self.d.create_resource_object("window", icon.window).get_geometry()
        except XError:
            return icon
        return Docked(icon.window, geom.width, geom.height)

    def pixels(self, icon: Docked) -> bytes | None:
        """The icon window's pixels as BGRX bytes, or None if it cannot be read now."""
        from Xlib import X
        from Xlib.error import XError

        window = self.d.create_resource_object("window", icon.window)
        try:
            image = window.get_image(0, 0, icon.width, icon.height, X.ZPixmap, 0xFFFFFFFF)
        except XError:
            return None
        return bytes(image.data)


def shows_numbers(data: bytes | None, width: int, height: int, *, bright: int = 200) -> bool:
    """Whether a tray icon image shows digits in the normal (white) level colour.

    The app draws the session percent in near-white (`core.gauge.TEXT`) once it has real
    numbers, and a grey dash (or "!") before that. Digits are near-white pixels spanning at least
    half the icon's height; a dash would be one flat band.
    """
    if not data or len(data) < width * height * 4:
        return False
    rows: set[int] = set()
    count = 0
    for y in range(height):
        row = data[y * width * 4:(y + 1) * width * 4]
        for x in range(width):
            b, g, r = row[4 * x], row[4 * x + 1], row[4 * x + 2]
            if r >= bright and g >= bright and b >= bright:
                count += 1
                rows.add(y)
    return count >= 6 and len(rows) >= height // 2


# ---- /proc counters ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcSample:
    at: float  # time.monotonic()
    voluntary: int  # context switches, summed over every thread
    involuntary: int
    cpu_ticks: int  # utime + stime of the whole process, in CLK_TCK (includes ended threads)
    rss_kb: int
    run_ns: int  # time on CPU, summed over live threads (`/proc/PID/task/*/schedstat`), exact
    threads: dict[str, tuple[int, int]]  # "tid:name" -> (voluntary, involuntary)

    @property
    def switches(self) -> int:
        return self.voluntary + self.involuntary

    @property
    def cpu_ms(self) -> float:
        return self.cpu_ticks * 1000.0 / CLK_TCK

    @property
    def run_ms(self) -> float:
        return self.run_ns / 1e6


def sample(pid: int) -> ProcSample:
    at = time.monotonic()
    vol = invol = run_ns = 0
    threads: dict[str, tuple[int, int]] = {}
    task_dir = Path(f"/proc/{pid}/task")
    for task in task_dir.iterdir():
        try:
            text = (task / "status").read_text()
            run_ns += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended while we looked
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        v = int(fields.get("voluntary_ctxt_switches", "0"))
        n = int(fields.get("nonvoluntary_ctxt_switches", "0"))
        vol += v
        invol += n
        threads[f"{task.name}:{fields.get('Name', '?').strip()}"] = (v, n)
    stat = Path(f"/proc/{pid}/stat").read_text()
    rest = stat[stat.rindex(")") + 2:].split()
    ticks = int(rest[11]) + int(rest[12])  # fields 14 and 15: utime, stime (all threads)
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return ProcSample(at, vol, invol, ticks, rss, run_ns, threads)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    print(f"-- {title}", flush=True)
    started = time.monotonic()
    yield
    print(f"   ({time.monotonic() - started:.1f} s)", flush=True)


# ---- the tray app under Xvfb ---------------------------------------------------------------


@dataclass
class Launch:
    proc: subprocess.Popen[Any]
    started: float  # time.perf_counter() at spawn
    mono_started: float  # time.monotonic() at spawn (the fake server's clock)
    docked_s: float | None = None
    numbers_s: float | None = None
    icon: Docked | None = None


def launch_app(cleanup: Cleanup, x: XConnection, env: dict[str, str], *,
               poll_s: float = 0.02, timeout: float = 20.0,
               require_numbers: bool = True, command: Sequence[str] | None = None) -> Launch:
    """Spawn `claude-pulse` and wait until its docked icon shows numbers (polled every 20 ms)."""
    deadline = time.monotonic() + 10
    while x.docked_icons():  # a previous run's icon must be gone first
        if time.monotonic() > deadline:
            raise SystemExit("bench: a previous tray icon is still docked")
        time.sleep(poll_s)
    mono0 = time.monotonic()
    t0 = time.perf_counter()
    proc = cleanup.popen(command or cli_command(), env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run = Launch(proc, t0, mono0)
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise SystemExit(f"bench: the app exited ({proc.returncode}): {err.strip()[-2000:]}")
        if run.icon is None:
            icons = x.docked_icons()
            if icons:
                run.icon = icons[0]
                run.docked_s = time.perf_counter() - t0
        else:
            run.icon = x.refresh(run.icon)  # the tray may resize the slot after docking
        if run.icon is not None and \
                shows_numbers(x.pixels(run.icon), run.icon.width, run.icon.height):
            run.numbers_s = time.perf_counter() - t0
            return run
        time.sleep(poll_s)
    if require_numbers:
        stop_process(proc)
        raise SystemExit(f"bench: no numbers on the tray icon within {timeout:.0f} s "
                         f"(docked: {run.docked_s is not None})")
    return run


def gi_path(cleanup: Cleanup) -> str | None:
    """A PYTHONPATH entry that makes `gi` importable for this Python, or None.

    Uses an installed PyGObject if there is one; else links Debian's `python3-gi` when it is
    built for this interpreter's ABI (feasibility.md §2, "apt alternative B").
    """
    probe = [sys.executable, "-c", "import gi"]
    if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return ""
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    system_gi = Path("/usr/lib/python3/dist-packages/gi")
    if not system_gi.is_dir() or not any(tag in p.name for p in system_gi.glob("_gi*.so")):
        return None
    folder = cleanup.tempdir("pulse-gi-")
    (folder / "gi").symlink_to(system_gi)
    env = {**os.environ, "PYTHONPATH": str(folder)}
    if subprocess.run(probe, capture_output=True, check=False, env=env).returncode != 0:
        return None
    return str(folder)


def pss_mb(pid: int) -> float | None:
    """Proportional set size (shared pages split among their users), from smaps_rollup."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def run_main(main: Any) -> int:
    """Run a benchmark's `main()`: interrupted or out of time, say so in one line."""
    try:
        return int(main())
    except KeyboardInterrupt:
        print("bench: interrupted; every process it started has been stopped", file=sys.stderr)
        return 130
    except TimeLimit as exc:
        print(f"bench: {exc}; every process it started has been stopped", file=sys.stderr)
        return 1


# ---- commands timed side by side -----------------------------------------------------------


@dataclass
class Timed:
    """A command to time: its argv and environment, its stdin (None: /dev/null), and what to do
    before each run, untimed (reset a file so every run does the same work)."""

    cmd: list[str]
    env: dict[str, str]
    stdin: bytes | None = None
    before: Callable[[], None] | None = None


def ensure_bytecode() -> None:
    """Compile the package's modules to `__pycache__`, as pip does when it installs them.

    With PYTHONDONTWRITEBYTECODE set (as on this machine) an editable install would compile
    every module of ours from source at every start, which a user's installed copy never does:
    a benchmark of start-up cost must not measure that.
    """
    import compileall

    import claude_pulse

    compileall.compile_dir(str(Path(claude_pulse.__file__).parent), quiet=1)


def add_interleave_args(parser: argparse.ArgumentParser, *, runs: int, warmup: int) -> None:
    parser.add_argument("--runs", type=int, default=runs, help=f"timed rounds (default {runs})")
    parser.add_argument("--warmup", type=int, default=warmup,
                        help=f"untimed rounds first, for warm caches (default {warmup})")


def time_one(t: Timed, timeout: float = 60.0) -> tuple[float, int, str]:
    """(wall ms from spawn to exit, exit code, the last line of its output)."""
    if t.before is not None:
        t.before()
    started = time.perf_counter()
    try:
        proc = subprocess.run(t.cmd, env=t.env, input=t.stdin,
                              stdin=subprocess.DEVNULL if t.stdin is None else None,
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return timeout * 1000, -1, f"(timed out after {timeout:g} s)"
    elapsed = (time.perf_counter() - started) * 1000
    out = proc.stdout.decode(errors="replace").strip().splitlines()
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    return elapsed, proc.returncode, (out or err or [""])[-1][:100]


def interleave(commands: dict[str, Timed], runs: int, warmup: int
               ) -> tuple[dict[str, list[float]], dict[str, tuple[int, str]]]:
    """Each round runs every command once, in an order that rotates each round, so machine load
    falls on all of them alike. Returns each command's times (ms) and its last (exit, line)."""
    names = list(commands)
    times: dict[str, list[float]] = {n: [] for n in names}
    last: dict[str, tuple[int, str]] = {}
    for i in range(warmup + runs):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed, code, line = time_one(commands[name])
            last[name] = (code, line)
            if i >= warmup:
                times[name].append(elapsed)
    return times, last


def ratio_table(times: dict[str, list[float]], last: dict[str, tuple[int, str]],
                base: str) -> dict[str, dict[str, Any]]:
    """Print (and return) each command's median, its ratio to `base`'s median, min and max, exit
    code and last line."""
    base_ms = statistics.median(times[base])
    rows: dict[str, dict[str, Any]] = {}
    width = max(len(n) for n in times) + 2
    print(f"{'command':{width}} {'median ms':>10} {'x ' + base:>17}  exit  last line")
    for name, values in times.items():
        med = statistics.median(values)
        code, line = last[name]
        rows[name] = {"median_ms": round(med, 1), "ratio": round(med / base_ms, 2),
                      "min_ms": round(min(values), 1), "max_ms": round(max(values), 1),
                      "runs": len(values), "exit": code,
                      "line": line}
        print(f"{name:{width}} {med:10.1f} {med / base_ms:17.2f}  {code:4}  {line!r}")
    return rows


def history_points(days: float, now: datetime, every_s: float = 60.0
                   ) -> tuple[list[tuple[datetime, float]], list[tuple[datetime, float]]]:
    """(session, weekly) samples, one per `every_s`, as a tray polling all week records them.

    The weekly line climbs steadily to ~70 %; the session line saw-tooths with its 5-hour
    window. For a steady-state chart and forecast, late in the weekly window.
    """
    count = int(days * 86400 / every_s)
    session: list[tuple[datetime, float]] = []
    weekly: list[tuple[datetime, float]] = []
    for i in range(count, 0, -1):
        at = now - timedelta(seconds=i * every_s)
        age_h = i * every_s / 3600
        weekly.append((at, round(70.0 * (1 - age_h / (days * 24)), 1)))
        session.append((at, round(8.0 * ((-age_h) % 5.0), 1)))
    return session, weekly


def fill_history(home: Path, days: float, now: datetime | None = None) -> int:
    """Write `days` of one-a-minute samples into the home's history database; returns the count.

    Goes through the app's own `HistoryStore.record`, so the schema is always the app's.
    """
    from claude_pulse.core.usage import parse_usage
    from claude_pulse.services.history import HistoryStore

    now = now or datetime.now(timezone.utc)
    session, weekly = history_points(days, now)
    store = HistoryStore(home / "history.sqlite3")
    try:
        for (at, s), (_, w) in zip(session, weekly, strict=True):
            store.record(at, parse_usage(usage_payload(s, w, now=now)), "api")
    finally:
        store.close()
    return len(session)
