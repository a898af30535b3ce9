"""Benchmark: what the OS trust store costs the first HTTPS request, against the stdlib's context.

How: `--runs` pairs of fresh child processes, interleaved (stdlib, truststore, stdlib, ...) so
load on a shared machine hits both alike. Each child first imports what both need (ssl, urllib,
http.client), then times (perf_counter) and measures the RSS growth (/proc/self/statm) of one
thing: `ssl.create_default_context()` (what Python 3.11's urllib built for every HTTPS
connection) or `claude_pulse.services.http.tls_context()` (truststore, built once per process),
each followed by one client-side wrap (as the first handshake would). Loopback requests build
neither.

Run: `python bench/tls.py [--runs 15]` (about 10 s; Linux, for /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from _harness import fmt, run_main, summary, write_results

_CHILD = """
import json, ssl, sys, time, urllib.request, http.client
import claude_pulse.services.http as transport

def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4

kind = sys.argv[1]
before, started = rss_kb(), time.perf_counter()
if kind == "truststore":
    context = transport.tls_context()
else:
    context = ssl.create_default_context()
context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="api.anthropic.com")
print(json.dumps({"ms": (time.perf_counter() - started) * 1000, "kb": rss_kb() - before,
                  "type": type(context).__module__}))
"""

KINDS = ("stdlib", "truststore")


def one(kind: str) -> dict[str, float | str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    proc = subprocess.run([sys.executable, "-c", _CHILD, kind], capture_output=True, text=True,
                          timeout=60, check=True, env=env)
    result: dict[str, float | str] = json.loads(proc.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    rss: dict[str, list[float]] = {k: [] for k in KINDS}
    for kind in KINDS:
        one(kind)  # warm the file cache
    for _ in range(args.runs):
        for kind in KINDS:
            result = one(kind)
            if kind == "truststore":
                assert str(result["type"]).startswith("truststore"), result
            times[kind].append(float(result["ms"]))
            rss[kind].append(float(result["kb"]) / 1024)
    ratio = statistics.median(times["truststore"]) / statistics.median(times["stdlib"])
    for kind in KINDS:
        print(f"{kind:>10}: {fmt(summary(times[kind]))}, RSS +{fmt(summary(rss[kind]), 'MB', 2)}")
    print(f"truststore / stdlib time (medians): {ratio:.2f}")
    write_results("tls", {
        "time_ms": {k: summary(v) for k, v in times.items()},
        "rss_mb": {k: summary(v) for k, v in rss.items()},
        "time_ratio": ratio,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
