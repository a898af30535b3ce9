"""Fixtures: browsers that follow the OAuth redirect to the loopback listener.

* `chromium`: runs real headless Chromium on a URL (flags from feasibility.md §7, a fresh
  `--user-data-dir` per run) and returns the final page's DOM.
* `browser_env`: sets `BROWSER` to a script that runs that Chromium, so Python's `webbrowser`
  (inside a `claude-pulse login` subprocess) drives a real browser. The final page lands in
  `BrowserEnv.page()`.
* `http_browser_env`: the same contract with a scripted HTTP "browser" (urllib following
  redirects) for fast tests that need `BROWSER` but not a real browser.
* `fetch_like_a_browser(url)`: that scripted browser in-process, for `open_browser=` parameters.
"""

from __future__ import annotations

import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.helpers import require_program

__all__ = ["browser_env", "chromium", "http_browser_env"]

# feasibility.md §7: what ran headless here (no GPU, no sandbox, no background traffic).
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
_PAGE_TIMEOUT_S = 90.0


def fetch_like_a_browser(url: str, timeout: float = 60.0) -> tuple[int, str]:
    """GET `url`, following redirects; the final (status, body) even for 4xx pages."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        with err:  # an unclosed error response is a ResourceWarning (an error under pytest)
            return err.code, err.read().decode("utf-8", "replace")


@dataclass(frozen=True)
class Chromium:
    path: str
    profiles: Path

    def command(self, url: str, profile: Path) -> list[str]:
        return [self.path, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url]

    def open(self, url: str, timeout: float = _PAGE_TIMEOUT_S) -> str:
        """Load `url` (following redirects) and return the final DOM."""
        self.profiles.mkdir(parents=True, exist_ok=True)
        profile = self.profiles / f"p{time.monotonic_ns()}"
        done = subprocess.run(self.command(url, profile), capture_output=True, text=True,
                              timeout=timeout, check=False)
        return done.stdout


@dataclass(frozen=True)
class BrowserEnv:
    """`BROWSER` points at `script`; each run writes the final page to `dump`."""

    script: Path
    dump: Path

    def page(self, timeout: float = _PAGE_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dump.exists():
                return self.dump.read_text(encoding="utf-8", errors="replace")
            time.sleep(0.1)
        raise AssertionError(f"the browser wrote no page within {timeout:.0f} s")


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    return Chromium(require_program("chromium"), tmp_path / "chromium-profiles")


def _write_script(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def browser_env(chromium: Chromium, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[BrowserEnv]:
    dump = tmp_path / "browser-page.html"
    flags = " ".join(CHROMIUM_FLAGS)
    # Written to a temp name and renamed, so page() never reads half a file.
    script = _write_script(tmp_path / "browser.sh", f"""#!/bin/sh
profile=$(mktemp -d "{tmp_path}/chromium-profile.XXXXXX")
"{chromium.path}" {flags} --user-data-dir="$profile" --dump-dom "$1" \\
    > "{dump}.part" 2> "{tmp_path}/browser-stderr.log"
mv "{dump}.part" "{dump}"
""")
    monkeypatch.setenv("BROWSER", str(script))
    yield BrowserEnv(script, dump)


@pytest.fixture
def http_browser_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BrowserEnv]:
    dump = tmp_path / "browser-page.html"
    script = _write_script(tmp_path / "browser.py", f"""#!{sys.executable}
import os, sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=60) as resp:
        body = resp.read()
except urllib.error.HTTPError as err:
    body = err.read()
with open({str(dump) + ".part"!r}, "wb") as fh:
    fh.write(body)
os.replace({str(dump) + ".part"!r}, {str(dump)!r})
""")
    monkeypatch.setenv("BROWSER", str(script))
    yield BrowserEnv(script, dump)
