"""The user's settings while the app runs: one current `Config`, and how it changes.

Everything that reads a setting holds `Settings.current` (a `config.ConfigSource`) and calls it
when it needs the value, so a change applies to the very next request, poll or alert. Two ways in:

* `update(**changes)` — the app's own toggles and the Preferences window. Validated by the same
  rules as the loader (a bad value raises ConfigError and writes nothing), saved atomically,
  keeping every other key, unknown ones too; a file that does not parse is never overwritten.
* `check()` — a hand edit of `config.json`. There is no timer for this: the app calls it at the
  wake-ups it has anyway (a poll, Refresh now, opening the window, a menu action), and it costs
  one `stat()` when nothing changed. An edit that leaves the file unparsable keeps the settings
  in use (and reports the file); a bad value for one key falls back to that key's default, as
  at start-up.

Subscribers are called with (old, new) after either, on the thread that called `update()` or
`check()` (the tray app does both on its UI thread), and also when only the file's problems
changed, so the window can show or clear them.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claude_pulse.config import Config, LoadedConfig, check, load, update

__all__ = ["Settings", "Subscriber"]

log = logging.getLogger(__name__)

Subscriber = Callable[[Config, Config], None]
# What identifies one version of the file; None when there is no file.
_Stamp = tuple[int, int, int, int] | None


class Settings:
    """`path` None: no file behind them (the demo, tests, bench); changes stay in memory."""

    def __init__(self, path: Path | None, loaded: LoadedConfig | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        # Stat first: an edit landing between the stat and the read is then seen again later,
        # never missed.
        self._stamp = _stamp(path)
        if loaded is None:
            loaded = load(path) if path is not None else LoadedConfig(Config())
        self._loaded = loaded

    @classmethod
    def of(cls, config: Config) -> Settings:
        """Settings that start from `config`, with no file behind them."""
        return cls(None, LoadedConfig(config))

    def current(self) -> Config:
        return self._loaded.config

    @property
    def problems(self) -> tuple[str, ...]:
        """What is wrong with the file, one user-facing line each."""
        return self._loaded.problems

    @property
    def file_is_valid(self) -> bool:
        """False when the file does not parse: the defaults are in use and nothing is saved."""
        return self._loaded.file_is_valid

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call `fn(old, new)` after each change; returns the unsubscribe call."""
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn) if fn in self._subscribers else None

    def update(self, **changes: Any) -> Config:
        """Validate, save and apply `changes`; raises ConfigError (nothing saved) or OSError."""
        with self._lock:
            old = self._loaded
            if self.path is None:
                cleaned = {key: check(key, value) for key, value in changes.items()}
                self._loaded = dataclasses.replace(old, config=dataclasses.replace(
                    old.config, **cleaned))
            else:
                self._loaded = update(self.path, **changes)
                self._stamp = _stamp(self.path)
            new = self._loaded
        self._notify(old, new)
        return new.config

    def check(self) -> bool:
        """Reload when `config.json` changed on disk since we last read it; True if it did."""
        if self.path is None:
            return False
        with self._lock:
            stamp = _stamp(self.path)
            if stamp == self._stamp:
                return False
            log.info("%s changed on disk; settings reloaded", self.path)
            old, loaded = self._loaded, load(self.path)
            if not loaded.file_is_valid:
                # Half-way through an edit, most likely: keep what we run with (reverting to
                # the defaults would switch alerts back on, the URLs back to Anthropic's...),
                # report the file, and refuse to save over it until it parses.
                loaded = dataclasses.replace(loaded, config=old.config)
            self._loaded, self._stamp = loaded, stamp
            new = loaded
        self._notify(old, new)
        return True

    def _notify(self, old: LoadedConfig, new: LoadedConfig) -> None:
        # Outside the lock: a subscriber may read the settings, or even change them.
        if old.config == new.config and old.problems == new.problems:
            return
        for fn in list(self._subscribers):
            try:
                fn(old.config, new.config)
            except Exception:  # one broken listener must not keep the others stale
                log.exception("a settings subscriber failed")


def _stamp(path: Path | None) -> _Stamp:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    # mtime alone misses two saves within the file system's time resolution; size and inode
    # (a new file from every atomic save) catch those.
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)
