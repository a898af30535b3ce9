"""Benchmark: `claude-pulse status --json` wall time against the local fake server, as a ratio.

How: the in-package fake Anthropic runs in this process (a thread on 127.0.0.1); a temporary
CLAUDE_PULSE_HOME holds its URLs and saved, fresh credentials. The console script
`claude-pulse status --json` is spawned `--runs` times (after warm-up runs), each one a real
fetch: gate check, HTTP GET of the usage endpoint, snapshot and history written, JSON printed.
Each run is paired with a `python -c pass` of the same interpreter, the two alternating (which
goes first alternates too), so machine load falls on both alike: the ratio of the medians is
the figure that holds from one machine to another (issue 19). Wall time from spawn to exit with
`time.perf_counter`. The fake server then says how many usage and token requests it saw
(expected: one usage request per run, no token requests: the access token is fresh). Also
printed: `python -X importtime` for one run (the largest imports).

Targets: issue 9's median <= 250 ms; issue 19 asks for the ratio to be reported.
Run: `python bench/status.py [--runs 20]` (about 10 s). Runs are capped so one home stays
under the highest hourly request budget the config allows (services/gate.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from _harness import (
    Cleanup,
    app_env,
    cli_command,
    ensure_bytecode,
    fmt,
    make_home,
    run_main,
    start_fake,
    summary,
    verdict,
    write_results,
)

from claude_pulse.config import MAX_REQUESTS_PER_HOUR

TARGET_MS = 250.0
MAX_RUNS = MAX_REQUESTS_PER_HOUR


def import_profile(env: dict[str, str]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "claude_pulse", "status", "--json"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False,
    )
    rows: list[dict[str, Any]] = []
    for line in proc.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = [part.strip() for part in line.split(":", 1)[1].split("|")]
        name = parts[2]
        if "." not in name or name.startswith("claude_pulse"):
            rows.append({"module": name, "self_us": int(parts[0]), "cumulative_us": int(parts[1])})
    rows.sort(key=lambda r: r["cumulative_us"], reverse=True)
    return rows[:12]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    runs = min(args.runs, MAX_RUNS - args.warmup - 1)

    ensure_bytecode()  # as an installed copy runs (PYTHONDONTWRITEBYTECODE may be set)
    load_before = os.getloadavg()
    with Cleanup(limit_s=300) as cleanup:
        fake = start_fake(cleanup)
        # The hourly budget at its ceiling: every run below is a real request (the default, 20,
        # would turn runs 21+ into "budget used up" answers from the snapshot).
        home = make_home(cleanup, fake, config={"max_requests_per_hour": MAX_RUNS})
        env = app_env(home, scratch=cleanup.tempdir())
        cmd = [*cli_command(), "status", "--json"]
        baseline_cmd = [sys.executable, "-c", "pass"]
        times: list[float] = []
        baseline: list[float] = []
        last: dict[str, Any] = {}
        for i in range(args.warmup + runs):
            # Alternate which goes first, so neither always follows the other's cache effects.
            order = ("status", "pass") if i % 2 else ("pass", "status")
            for which in order:
                started = time.perf_counter()
                proc = subprocess.run(cmd if which == "status" else baseline_cmd, env=env,
                                      stdin=subprocess.DEVNULL, capture_output=True,
                                      timeout=30, check=False)
                elapsed = (time.perf_counter() - started) * 1000
                if proc.returncode != 0:
                    raise SystemExit(f"bench: {which} exited {proc.returncode}: "
                                     f"{proc.stderr.decode(errors='replace').strip()}")
                if which == "status":
                    last = json.loads(proc.stdout)
                if i >= args.warmup:
                    (times if which == "status" else baseline).append(elapsed)
        usage_calls = len(fake.requests_to("usage"))
        token_calls = len(fake.requests_to("token"))
        imports = import_profile(env)

    ratio = summary(times)["median"] / summary(baseline)["median"]
    result: dict[str, Any] = {
        "command": "claude-pulse status --json",
        "wall_ms": summary(times),
        "python_c_pass_ms": summary(baseline),
        "ratio_to_python_c_pass": round(ratio, 2),
        "target_ms": TARGET_MS,
        "verdict": verdict(summary(times)["median"], TARGET_MS),
        "requests": {"usage": usage_calls, "token": token_calls,
                     "runs_including_warmup": args.warmup + runs},
        "session_utilization": (last.get("session") or {}).get("utilization"),
        "largest_imports": imports,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }
    print(f"status --json vs fake server: {fmt(result['wall_ms'])}   target <= "
          f"{TARGET_MS:.0f} ms  -> {result['verdict']}")
    print(f"python -c pass, interleaved:  {fmt(result['python_c_pass_ms'])}   "
          f"status --json = {ratio:.1f}x python -c pass")
    print(f"requests seen by the fake server: usage {usage_calls} for "
          f"{args.warmup + runs} runs, token {token_calls} (expected 0)")
    print("largest imports (cumulative):")
    for row in imports[:8]:
        print(f"  {row['cumulative_us'] / 1000:6.1f} ms  {row['module']}")
    write_results("status", result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
