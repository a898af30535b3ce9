"""Run `claude-pulse` in a real process whose file-system calls fail the way we ask.

    PULSE_OS_FAULTS='[{"call": "replace", "name": "credentials.json", "winerror": 32}]' \\
        python tests/support/os_faults.py status --json

Each fault patches one OS call, before `claude_pulse.cli.main` runs:

* `call`: "replace" (`os.replace`, matched on the destination), "rename" (`os.rename`, on the
  destination), "read" (`os.open`/`open` for reading), "write" (`os.open`/`open` for writing,
  temp files included: matched on the name the temp file is made for), "fsync" (`os.fsync` of a
  file whose name matches), "unlink", "mkdir", or "geteuid" (returns `uid` instead);
* `name`: the file name to match (`*` for any);
* `winerror` (5, 32, 33): raise PermissionError as Windows does for a sharing violation, with
  that `winerror` — else `errno` (e.g. 28 for ENOSPC, 30 for EROFS) as an OSError;
* `times`: fail only the first N matching calls (default: every one).

Every fault that fires appends one line (`call name`) to the file in `PULSE_OS_FAULTS_LOG`, so a
test can prove the fault really happened.
"""

from __future__ import annotations

import builtins
import errno as errno_mod
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_WINDOWS_TEXT = {
    5: "Access is denied",
    32: "The process cannot access the file because it is being used by another process",
    33: "The process cannot access the file because another process has locked a portion of "
        "the file",
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Fault:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.call: str = spec["call"]
        self.name: str = spec.get("name", "*")
        self.winerror: int | None = spec.get("winerror")
        self.errno: int = spec.get("errno", errno_mod.EACCES)
        self.uid: int = spec.get("uid", 0)
        self.left: int | None = spec.get("times")

    def hits(self, call: str, path: Any) -> bool:
        if call != self.call or (self.left is not None and self.left <= 0):
            return False
        if self.name != "*" and _target_name(path) != self.name:
            return False
        if self.left is not None:
            self.left -= 1
        _note(f"{call} {_target_name(path)}")
        return True

    def error(self, path: Any) -> OSError:
        if self.winerror is not None:
            exc = PermissionError(errno_mod.EACCES, _WINDOWS_TEXT[self.winerror], str(path))
            exc.winerror = self.winerror  # type: ignore[attr-defined]  # as on Windows
            return exc
        return OSError(self.errno, os.strerror(self.errno), str(path))


def _target_name(path: Any) -> str:
    """The file a call is about: a temp file `.credentials.json.1a2b.tmp` counts as its target."""
    if isinstance(path, int):
        return _FD_NAMES.get(path, "")
    name = Path(os.fsdecode(path)).name
    if name.startswith(".") and (name.endswith(".tmp") or name.endswith(".pending")):
        return name[1:].rsplit(".", 2)[0]
    return name


_FD_NAMES: dict[int, str] = {}
# Taken before install() patches builtins.open: the fault log must never hit a fault itself.
_REAL_OPEN = builtins.open


def _note(line: str) -> None:
    target = os.environ.get("PULSE_OS_FAULTS_LOG")
    if target:
        with _REAL_OPEN(target, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def install(faults: list[Fault]) -> None:
    real_replace, real_rename, real_open = os.replace, os.rename, os.open
    real_fsync, real_unlink, real_mkdir = os.fsync, os.unlink, os.mkdir
    real_builtin_open = builtins.open

    def check(call: str, path: Any) -> None:
        for fault in faults:
            if fault.hits(call, path):
                raise fault.error(path)

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        check("replace", dst)
        real_replace(src, dst, *args, **kwargs)

    def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        check("rename", dst)
        real_rename(src, dst, *args, **kwargs)

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        check("write" if flags & _WRITE_FLAGS else "read", path)
        fd = real_open(path, flags, *args, **kwargs)
        _FD_NAMES[fd] = _target_name(path)
        return fd

    def builtin_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if not isinstance(file, int):
            check("write" if set(mode) & set("wax+") else "read", file)
        return real_builtin_open(file, mode, *args, **kwargs)

    def fsync(fd: Any) -> None:
        check("fsync", fd if isinstance(fd, int) else fd.fileno())
        real_fsync(fd)

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        check("unlink", path)
        real_unlink(path, *args, **kwargs)

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        check("mkdir", path)
        real_mkdir(path, *args, **kwargs)

    patches: dict[str, Callable[..., Any]] = {
        "replace": replace, "rename": rename, "open": os_open, "fsync": fsync,
        "unlink": unlink, "mkdir": mkdir,
    }
    for name, patched in patches.items():
        setattr(os, name, patched)
    builtins.open = io.open = builtin_open  # pathlib opens through io.open
    uids = [fault.uid for fault in faults if fault.call == "geteuid"]
    if uids:
        os.geteuid = lambda: uids[-1]


def main() -> int:
    faults = [Fault(spec) for spec in json.loads(os.environ.get("PULSE_OS_FAULTS", "[]"))]
    install(faults)
    from claude_pulse.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())


# ---- for the tests: run a command under faults ----------------------------------------------

SCRIPT = Path(__file__)


class Run:
    """A finished `claude-pulse` process: its output and the faults that fired."""

    def __init__(self, proc: Any, fired: list[str], seconds: float) -> None:
        self.code: int = proc.returncode
        self.stdout: str = proc.stdout
        self.stderr: str = proc.stderr
        self.fired = fired
        self.seconds = seconds

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def run_cli(home: Path, *args: str, faults: list[dict[str, Any]] | None = None,
            timeout: float = 60, stdin: str | None = None,
            env: dict[str, str] | None = None) -> Run:
    """`claude-pulse ARGS` in a child process with CLAUDE_PULSE_HOME=home and the given faults."""
    import subprocess
    import tempfile
    import time

    with tempfile.NamedTemporaryFile("r", suffix=".faults", delete=False) as log_file:
        log_path = log_file.name
    environ = {**os.environ, **(env or {}), "CLAUDE_PULSE_HOME": str(home),
               "PULSE_OS_FAULTS": json.dumps(faults or []), "PULSE_OS_FAULTS_LOG": log_path}
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True,
                              text=True, timeout=timeout, env=environ,
                              input=stdin if stdin is not None else "",
                              check=False)
        fired = Path(log_path).read_text(encoding="utf-8").splitlines()
    finally:
        os.unlink(log_path)
    return Run(proc, fired, time.monotonic() - started)
