"""Benchmark: Deep Dive redraw and tray icon render times.

How (all in this process, times with `time.perf_counter`, one sample per redraw):

* `card` — `core.viewmodel.deep_dive_view` + `ui.render.card.render_card`: the pure part of a Deep
  Dive redraw, for a new status each time (usage and reset times move, so nothing is cached);
  without history, and with 6.5 days of one-a-minute history for the two charts (the most a
  week holds).
* `window` — the real `ui.deep_dive.DeepDiveWindow` on a Tk root under a private Xvfb, shown;
  each sample is one `set_status(new status)` (view model, Pillow card, `ImageTk.PhotoImage`,
  label update) plus `update_idletasks()`, so Tk has laid out and drawn it. This is what the
  user waits for. Skipped (and said so) when Xvfb is missing.
* `icon_cold` / `icon_warm` — `ui.render.tray.render_tray_icon(tray_view(status), size)` at 16, 24,
  32 and 48 px; cold clears the glyph cache first (a percent never drawn before), warm repeats
  a drawn one.
* `icon_on_screen` — the app's `ui.tray.Tray` (pystray xorg backend) docked in trayer on the
  same Xvfb: from `Tray.update(...)` until the docked icon's pixels (read with `GetImage` in a
  tight loop) show the new image. This includes pystray's thread hand-off, the backend's
  compositing onto the tray background and the X round trips. For information.

Target (issue 9): a Deep Dive redraw and an icon render each <= 30 ms.
Run: `python bench/render.py [--runs 40]` (about 20 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from _harness import (
    HISTORY_DAYS,
    LATE_IN_WEEK,
    Cleanup,
    XConnection,
    fill_history,
    fmt,
    run_main,
    start_trayer,
    start_xvfb,
    summary,
    usage_payload,
    verdict,
    write_results,
)

TARGET_MS = 30.0
ICON_SIZES = (16, 24, 32, 48)


def statuses(count: int, now: datetime, history_days: float = 0.0) -> list[Any]:
    """`count` distinct OK statuses, as the poller would produce them minute after minute.

    With `history_days`, each carries that much one-a-minute history for the two charts (the
    weekly window resetting 12 h later), as the worker reads it late in a week.
    """
    from claude_pulse.core.snapshot import Snapshot
    from claude_pulse.core.status import AppStatus, Phase
    from claude_pulse.core.usage import parse_usage
    from claude_pulse.home import Home
    from claude_pulse.wiring import Services

    out = []
    with tempfile.TemporaryDirectory(prefix="pulse-bench-") as folder:
        services = Services(Home(Path(folder)))
        if history_days:
            # Written and read back through the app's own HistoryStore and Services.trends, so
            # the charts get exactly the samples the poller's worker would give them.
            fill_history(services.home.root, history_days, now)
        for i in range(count):
            at = now + timedelta(minutes=i)
            raw = usage_payload(session=float(5 + (i * 7) % 90),
                                weekly=float(10 + (i * 3) % 80), now=now,
                                weekly_resets_in=LATE_IN_WEEK)
            snap = Snapshot(at, parse_usage(raw), raw)
            extra: dict[str, Any] = {}
            if history_days:
                session, weekly = services.trends(snap.usage, at)
                extra = {"session_history": session.points, "weekly_history": weekly.points}
            out.append(AppStatus(Phase.OK, snap, at + timedelta(minutes=1),
                                 account="pulse.user@example.com", **extra))
        services.history.close()
    return out


def time_each(items: list[Any], fn: Callable[[Any], object]) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_card(runs: int, now: datetime, history_days: float) -> list[float]:
    from claude_pulse.core.viewmodel import deep_dive_view
    from claude_pulse.ui.render.card import render_card

    def redraw(status: Any) -> None:
        view = deep_dive_view(status, status.snapshot.fetched_at, alerts_enabled=True,
                              show_model_limits=False)
        render_card(view)

    warm = statuses(3, now - timedelta(days=1), history_days)
    time_each(warm, redraw)  # fonts loaded, code paths warm
    return time_each(statuses(runs, now, history_days), redraw)


def bench_icon(runs: int, now: datetime) -> dict[str, list[float]]:
    from claude_pulse.core.viewmodel import tray_view
    from claude_pulse.ui.render import tray as render_tray
    from claude_pulse.ui.render.tray import render_tray_icon

    items = statuses(runs, now)
    results: dict[str, list[float]] = {"icon_cold": [], "icon_warm": []}
    render_tray_icon(tray_view(items[0], now), 32)  # font loaded
    for status in items:
        view = tray_view(status, now)
        for size in ICON_SIZES:
            cache_clear = getattr(render_tray._glyph_mask, "cache_clear", None)
            if cache_clear is not None:
                cache_clear()
            started = time.perf_counter()
            render_tray_icon(view, size)
            results["icon_cold"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            render_tray_icon(view, size)
            results["icon_warm"].append((time.perf_counter() - started) * 1000)
    return results


def bench_window(runs: int, now: datetime, history_days: float) -> tuple[list[float], int]:
    import tkinter as tk

    from claude_pulse.ui.deep_dive import DeepDiveWindow

    root = tk.Tk(className="pulse-bench")
    root.withdraw()
    try:
        clock_now = [now]
        window = DeepDiveWindow(
            root, clock=lambda: clock_now[0], on_refresh=lambda: None,
            on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
        )
        warm = statuses(3, now - timedelta(days=1), history_days)
        window.set_status(warm[0])
        window.show()
        root.update()
        for status in warm[1:]:
            clock_now[0] = status.snapshot.fetched_at
            window.set_status(status)
            root.update_idletasks()
        renders_before = getattr(window, "renders", 0)
        times = []
        for status in statuses(runs, now, history_days):
            clock_now[0] = status.snapshot.fetched_at
            started = time.perf_counter()
            window.set_status(status)
            root.update_idletasks()
            times.append((time.perf_counter() - started) * 1000)
            root.update()  # deliver Expose etc. outside the timed part
        renders = getattr(window, "renders", 0) - renders_before
        window.destroy()
        return times, renders
    finally:
        root.destroy()


def bench_icon_on_screen(runs: int, now: datetime, display: str) -> list[float]:
    from claude_pulse.core.viewmodel import tray_view
    from claude_pulse.ui.render.tray import render_tray_icon
    from claude_pulse.ui.tray import Tray

    def renderer(status: Any) -> Callable[[int], Any]:
        view = tray_view(status, now)
        return lambda size: render_tray_icon(view, size)

    items = statuses(runs + 1, now)
    tray = Tray(post=lambda _fn: None, entries=[])
    tray.start(renderer(items[0]), "bench")
    times: list[float] = []
    try:
        with XConnection(display) as x:
            deadline = time.monotonic() + 10
            icons = x.docked_icons()
            while not icons and time.monotonic() < deadline:
                time.sleep(0.02)
                icons = x.docked_icons()
            if not icons:
                return times
            icon = icons[0]
            time.sleep(0.3)
            for status in items[1:]:
                before = x.pixels(icon)
                started = time.perf_counter()
                tray.update(renderer(status), "bench")
                while time.perf_counter() - started < 2.0:
                    if x.pixels(icon) != before:
                        times.append((time.perf_counter() - started) * 1000)
                        break
                time.sleep(0.05)
    finally:
        tray.stop()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)

    result: dict[str, Any] = {"target_ms": TARGET_MS, "loadavg_before": os.getloadavg()}
    result["card"] = summary(bench_card(args.runs, now, 0.0))
    result["card_with_history"] = summary(bench_card(args.runs, now, HISTORY_DAYS))
    result["history_days"] = HISTORY_DAYS
    icons = bench_icon(max(4, args.runs // 4), now)
    result["icon_cold"] = summary(icons["icon_cold"])
    result["icon_warm"] = summary(icons["icon_warm"])
    result["icon_sizes"] = list(ICON_SIZES)
    with Cleanup(limit_s=300) as cleanup:
        try:
            display = start_xvfb(cleanup)
        except SystemExit as exc:
            print(f"window: skipped ({exc})")
            result["window"] = None
        else:
            os.environ["DISPLAY"] = display
            times, renders = bench_window(args.runs, now, 0.0)
            result["window"] = summary(times)
            result["window_renders"] = renders
            times, renders = bench_window(args.runs, now, HISTORY_DAYS)
            result["window_with_history"] = summary(times)
            try:
                start_trayer(cleanup, display)
            except SystemExit as exc:
                print(f"icon on screen: skipped ({exc})")
            else:
                os.environ["PYSTRAY_BACKEND"] = "xorg"
                result["icon_on_screen"] = summary(bench_icon_on_screen(args.runs // 2, now,
                                                                         display))
    result["loadavg_after"] = os.getloadavg()
    worst = max(result["card_with_history"]["median"], result["icon_cold"]["median"],
                (result.get("window_with_history") or {"median": 0.0})["median"])
    result["verdict"] = verdict(worst, TARGET_MS)

    print(f"Deep Dive card (view + Pillow):        {fmt(result['card'])}")
    print(f"  ... with {HISTORY_DAYS:g} days of history:   {fmt(result['card_with_history'])}")
    if result["window"] is not None:
        print(f"Deep Dive redraw in Tk (Xvfb):         {fmt(result['window'])} "
              f"[{result['window_renders']} card renders]")
        print(f"  ... with {HISTORY_DAYS:g} days of history:   "
              f"{fmt(result['window_with_history'])}")
    print(f"tray icon render, cold glyph cache:    {fmt(result['icon_cold'], digits=2)}")
    print(f"tray icon render, warm:                {fmt(result['icon_warm'], digits=2)}")
    if result.get("icon_on_screen"):
        print(f"tray icon update to screen (xorg):     {fmt(result['icon_on_screen'])}")
    print(f"target <= {TARGET_MS:.0f} ms each -> {result['verdict']}")
    write_results("render", result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
