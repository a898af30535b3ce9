"""Benchmark: the idle tray's memory on this desktop as it is (Windows: the working set).

`memory.py` measures Linux on a private Xvfb with trayer. This one is for a machine with a real
desktop session, chiefly the Windows CI runner (an informational step of the Windows job in
.github/workflows/ci.yml): the in-package fake Anthropic in this process, a fresh
CLAUDE_PULSE_HOME with saved credentials and 6.5 days of history, the tray app started as
`python -m claude_pulse` (the icon in the real tray, window hidden), left alone until its first
poll and `--settle` seconds more, then its memory read five times a second apart.

Windows: `WorkingSet64` and `PrivateMemorySize64` from PowerShell's `Get-Process` (the numbers
Task Manager shows as "Memory" come from the private working set; the working set also counts
shared DLL pages, like RSS). Linux: `VmRSS` from /proc (run it under your desktop's DISPLAY).
Prints one line; it exits 0 unless the app could not be started. Run with the Python the app is
installed in (on Windows not a venv's `python.exe`, which is a launcher with a child process).

Run: `python bench/working_set.py [--settle 15]` (about 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from _harness import (
    HISTORY_DAYS,
    LATE_IN_WEEK,
    Cleanup,
    fill_history,
    make_home,
    run_main,
    start_fake,
    usage_payload,
    write_results,
)


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident/working-set and private memory, in MB."""
    if sys.platform == "win32":
        script = (f"$p = Get-Process -Id {pid}; "
                  "@{ws = $p.WorkingSet64; private = $p.PrivateMemorySize64} | ConvertTo-Json")
        out = subprocess.run(["powershell", "-NoProfile", "-Command", script],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        data = json.loads(out)
        return {"working_set_mb": data["ws"] / 2**20, "private_mb": data["private"] / 2**20}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    return {"working_set_mb": int(fields["VmRSS"].split()[0]) / 1024,
            "private_mb": int(fields["RssAnon"].split()[0]) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--history-days", type=float, default=HISTORY_DAYS)
    args = parser.parse_args()
    # SIGALRM (the time limit) is POSIX only; the waits below are bounded anyway.
    with Cleanup(limit_s=None if sys.platform == "win32" else 180) as cleanup:
        fake = start_fake(cleanup, usage_payload(42.0, 70.0, weekly_resets_in=LATE_IN_WEEK))
        home = make_home(cleanup, fake)
        if args.history_days:
            fill_history(home, args.history_days)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["CLAUDE_PULSE_HOME"] = str(home)
        log = cleanup.tempdir() / "stderr.txt"
        with open(log, "wb") as err:
            proc = cleanup.popen([sys.executable, "-m", "claude_pulse"], env=env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 60
        while not fake.requests_to("usage"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: the tray app did not poll (exit {proc.poll()}): "
                                 f"{log.read_text(errors='replace')}")
            time.sleep(0.2)
        time.sleep(args.settle)
        samples: list[dict[str, float]] = []
        for _ in range(5):
            samples.append(memory_mb(proc.pid))
            time.sleep(1.0)
    result: dict[str, Any] = {
        "platform": sys.platform, "history_days": args.history_days, "settle_s": args.settle,
        **{key: round(statistics.median(s[key] for s in samples), 1) for key in samples[0]},
    }
    print(f"idle tray on {sys.platform}, window hidden, {args.history_days:g} days of history: "
          f"working set {result['working_set_mb']:.1f} MB, private {result['private_mb']:.1f} MB "
          "(median of 5 samples)", flush=True)
    write_results(f"working-set-{sys.platform}", result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
