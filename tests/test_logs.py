"""Logging: nothing secret reaches a log file, files are private and rotate at 1 MB x 3."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_pulse.platform import logs
from claude_pulse.platform.logs import BACKUP_COUNT, MAX_BYTES, configure, redact

# Secrets used below; none of them may appear in any log file.
TOKEN = "sk-ant-oat01-Zq3xA9_bC-7dEfGh1jKlMn0pQrStUvWx"
REFRESH = "sk-ant-ort01-Rr8yB2_cD-6eFgHi2kLmNo1qRsTuVwXy"
CODE = "Kq9vX2mN4pR7sT1uW3yZ5aB8cD0eF6gH"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
STATE = "xyzSTATE0987654321abcdefghijklmnop"
OPAQUE = "opaqueAccess.Token~value/42"
SECRETS = (TOKEN, REFRESH, CODE, VERIFIER, STATE, OPAQUE, "Zq3xA9", "Rr8yB2")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    quiet = {name: logging.getLogger(name).level for name in logs._QUIET}
    yield
    for handler in list(root.handlers):
        if isinstance(handler, logs._Ours):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def _log_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("claude-pulse.log*"))


def _assert_clean(folder: Path) -> str:
    text = "".join(p.read_text("utf-8") for p in _log_files(folder))
    for secret in SECRETS:
        assert secret not in text, secret
    return text


# --- redact(): a table of inputs and outputs ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"token {TOKEN} end", "token sk-ant-*** end", id="sk-ant-bare"),
        pytest.param(f"key=sk-ant-api03-{CODE}", "key=sk-ant-***", id="sk-ant-api-key"),
        pytest.param(f"Authorization: Bearer {TOKEN}", "Authorization: Bearer ***",
                     id="header-http-bearer"),
        pytest.param(f"Authorization: Bearer {OPAQUE}\r\nHost: api.anthropic.com",
                     "Authorization: Bearer ***\r\nHost: api.anthropic.com",
                     id="header-http-stops-at-line-end"),
        pytest.param("authorization: Basic dXNlcjpwYXNzd29yZA==", "authorization: Basic ***",
                     id="header-http-basic"),
        pytest.param(f"{{'Authorization': 'Bearer {OPAQUE}', 'User-Agent': 'claude-pulse/1'}}",
                     "{'Authorization': 'Bearer ***', 'User-Agent': 'claude-pulse/1'}",
                     id="header-dict-repr"),
        pytest.param(f'{{"authorization": "Bearer {OPAQUE}", "x": 1}}',
                     '{"authorization": "Bearer ***", "x": 1}', id="header-json"),
        pytest.param(f"[('Authorization', 'Bearer {OPAQUE}'), ('User-agent', 'x')]",
                     "[('Authorization', 'Bearer ***'), ('User-agent', 'x')]",
                     id="header-items-tuples"),
        pytest.param(f"{{'x-api-key': '{OPAQUE}'}}", "{'x-api-key': '***'}", id="x-api-key"),
        pytest.param(f"sending Bearer {OPAQUE} now", "sending Bearer *** now",
                     id="bearer-anywhere"),
        pytest.param(f"Bearer {TOKEN}", "Bearer ***", id="bearer-sk-ant"),
        pytest.param(f"GET /callback?code={CODE}&state={STATE} HTTP/1.1",
                     "GET /callback?code=***&state=*** HTTP/1.1", id="query-callback"),
        pytest.param(f"https://claude.ai/oauth/authorize?code=true&client_id=c&state={STATE}",
                     "https://claude.ai/oauth/authorize?code=***&client_id=c&state=***",
                     id="query-authorize"),
        pytest.param(f"grant_type=authorization_code&code={CODE}&code_verifier={VERIFIER}"
                     "&redirect_uri=http%3A%2F%2Flocalhost%3A19532%2Fcallback",
                     "grant_type=authorization_code&code=***&code_verifier=***"
                     "&redirect_uri=http%3A%2F%2Flocalhost%3A19532%2Fcallback", id="form-code"),
        pytest.param(f"grant_type=refresh_token&refresh_token={REFRESH}&client_id=c",
                     "grant_type=refresh_token&refresh_token=***&client_id=c", id="form-refresh"),
        pytest.param(f"state={STATE}&code={CODE}", "state=***&code=***", id="form-state-first"),
        pytest.param(f'{{"code": "{CODE}#{STATE}", "state": "{STATE}", '
                     f'"code_verifier": "{VERIFIER}", "grant_type": "authorization_code"}}',
                     '{"code": "***", "state": "***", "code_verifier": "***", '
                     '"grant_type": "authorization_code"}', id="json-exchange-body"),
        pytest.param(f'{{"access_token":"{OPAQUE}","refresh_token":"{REFRESH}",'
                     '"expires_in":28800}',
                     '{"access_token":"***","refresh_token":"***","expires_in":28800}',
                     id="json-compact"),
        pytest.param(f"{{'access_token': '{OPAQUE}', 'expires_in': 28800}}",
                     "{'access_token': '***', 'expires_in': 28800}", id="dict-repr"),
        pytest.param(f"TokenSet(access_token='{OPAQUE}', refresh_token='{REFRESH}', x=1)",
                     "TokenSet(access_token='***', refresh_token='***', x=1)",
                     id="keyword-repr"),
        pytest.param(f"body=b'{{\"code\": \"{CODE}\"}}'", "body=b'{\"code\": \"***\"}'",
                     id="bytes-repr-of-json"),
        pytest.param(f"{{'id_token': b'{OPAQUE}'}}", "{'id_token': b'***'}", id="bytes-value"),
        pytest.param(f'"{{\\"refresh_token\\": \\"{REFRESH}\\"}}"',
                     '"{\\"refresh_token\\": \\"***\\"}"', id="escaped-json-in-string"),
        pytest.param(f"client_secret: '{OPAQUE}'", "client_secret: '***'", id="yaml-ish"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent: a second filter changes nothing


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("usage 42% (session), weekly 68%", id="plain"),
        pytest.param("exit code: 1", id="exit-code"),
        pytest.param("HTTP code=429, retry in 300 s", id="http-status-code"),
        pytest.param("status_code=429 error_code=invalid_grant", id="suffix-keys"),
        pytest.param("poller state=LOADING -> OK", id="poller-state"),
        pytest.param("GET https://api.anthropic.com/api/oauth/usage -> 200", id="url"),
        pytest.param("grant_type=refresh_token&client_id=9d1c250a", id="form-no-secret"),
        pytest.param("basic configuration loaded", id="word-basic"),
        pytest.param("sk-ant-*** and Bearer ***", id="already-redacted"),
    ],
)
def test_redact_keeps_harmless_text(text: str) -> None:
    assert redact(text) == text


# --- the filter on real handlers --------------------------------------------------------------


def _raise_with_secret() -> None:
    try:
        raise ConnectionError(f"refresh failed for refresh_token={REFRESH}")
    except ConnectionError as exc:
        raise RuntimeError(f"POST https://x/token body={{'code': '{CODE}'}}") from exc


def test_log_file_never_holds_a_secret(tmp_path: Path) -> None:
    configure(tmp_path, console=False)
    log = logging.getLogger("claude_pulse.test")
    log.info("callback %s", f"/callback?code={CODE}&state={STATE}")
    log.info("headers %s", [("Authorization", f"Bearer {OPAQUE}")])
    log.info("token response %r", {"access_token": TOKEN, "refresh_token": REFRESH})
    log.info("exchange %(body)s", {"body": f'{{"code_verifier": "{VERIFIER}"}}'})
    log.warning({"access_token": OPAQUE})  # a non-string message
    try:
        _raise_with_secret()
    except RuntimeError:
        log.exception("login failed with %s", TOKEN)
    log.info("where %s", f"Bearer {OPAQUE}", stack_info=True)
    text = _assert_clean(tmp_path)
    assert "Traceback" in text and "ConnectionError" in text
    assert text.count("***") >= 10


def test_bad_format_arguments_do_not_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    configure(tmp_path, console=False)
    # pytest's own capture handler would raise on the bad arguments; only ours are under test.
    monkeypatch.setattr(logging.getLogger(), "handlers", _ours())
    logging.getLogger("claude_pulse.test").info("%d items for %s", "many", TOKEN)
    text = _assert_clean(tmp_path)
    assert "items for" in text
    assert "Logging error" not in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_log_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        configure(tmp_path / "logs", console=False)
        logging.getLogger("claude_pulse.test").info("hello")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "logs").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "logs" / "claude-pulse.log").stat().st_mode) == 0o600


@pytest.mark.slow
def test_rotation_keeps_three_old_files_of_1_mb(tmp_path: Path) -> None:
    configure(tmp_path, console=False)
    log = logging.getLogger("claude_pulse.test")
    line = "." * 900 + f" /cb?code={CODE}&state={STATE} Authorization: Bearer {OPAQUE}"
    for _ in range(5 * MAX_BYTES // 1000):
        log.info(line)
    names = [p.name for p in _log_files(tmp_path)]
    assert names == ["claude-pulse.log", *(f"claude-pulse.log.{i}" for i in
                                          range(1, BACKUP_COUNT + 1))]
    for path in _log_files(tmp_path):
        assert path.stat().st_size <= MAX_BYTES
        if os.name == "posix":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    _assert_clean(tmp_path)


def test_blocked_rotation_keeps_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Windows cannot rename a log another process holds open; we keep appending instead."""
    configure(tmp_path, console=False)
    handler = next(h for h in logging.getLogger().handlers
                   if isinstance(h, logging.handlers.RotatingFileHandler))

    def locked(source: str, dest: str) -> None:
        raise PermissionError(32, "The process cannot access the file", source)

    monkeypatch.setattr(handler, "rotate", locked)
    log = logging.getLogger("claude_pulse.test")
    for i in range(1200):
        log.info("line %d %s", i, "." * 1000)
    assert "line 1199" in (tmp_path / "claude-pulse.log").read_text("utf-8")
    assert "Logging error" not in capsys.readouterr().err


# --- configure() -------------------------------------------------------------------------------


def _ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, logs._Ours)]


def test_configure_is_idempotent_and_keeps_foreign_handlers(tmp_path: Path) -> None:
    foreign = logging.NullHandler()
    root = logging.getLogger()
    root.addHandler(foreign)
    try:
        configure(tmp_path)
        configure(tmp_path, filename="cli.log")
        ours = _ours()
        assert len(ours) == 2
        assert foreign in root.handlers
        files = [h for h in ours if isinstance(h, logging.handlers.RotatingFileHandler)]
        assert [Path(h.baseFilename).name for h in files] == ["cli.log"]
        assert all(any(isinstance(f, logs.RedactingFilter) for f in h.filters) for h in ours)
    finally:
        root.removeHandler(foreign)


@pytest.mark.parametrize(
    ("verbose", "in_file", "on_stderr"),
    [
        pytest.param(False, ["INFO", "WARNING", "ERROR"], ["ERROR"], id="normal"),
        pytest.param(True, ["DEBUG", "INFO", "WARNING", "ERROR"],
                     ["DEBUG", "INFO", "WARNING", "ERROR"], id="verbose"),
    ],
)
def test_verbose_levels(tmp_path: Path, capsys: pytest.CaptureFixture[str], verbose: bool,
                        in_file: list[str], on_stderr: list[str]) -> None:
    configure(tmp_path, verbose=verbose)
    log = logging.getLogger("claude_pulse.test")
    for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        log.log(getattr(logging, level), "%s message code=%s", level.lower(), CODE)
    text = _assert_clean(tmp_path)
    err = capsys.readouterr().err
    assert CODE not in err
    for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        assert (f"{level.lower()} message" in text) is (level in in_file)
        assert (f"{level.lower()} message" in err) is (level in on_stderr)


def test_no_console_without_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pythonw.exe has no stderr (sys.stderr is None): log to the file only."""
    monkeypatch.setattr(sys, "stderr", None)
    configure(tmp_path)
    assert [type(h).__name__ for h in _ours()] == ["_LogFile"]


def test_unwritable_log_folder_does_not_stop_the_app(tmp_path: Path) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the folder should be")
    configure(blocker, console=False)
    assert _ours() == []


# --- a log file that is not ours to write (issue 16 items 4, 6; issue 13 item 7) -------------


def _file_handler() -> logging.handlers.RotatingFileHandler:
    return next(h for h in _ours() if isinstance(h, logging.handlers.RotatingFileHandler))


@pytest.mark.skipif(os.name != "posix", reason="symlinks and O_NOFOLLOW")
def test_a_planted_symlink_is_not_followed(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "claude-pulse.log").symlink_to(victim)
    configure(tmp_path / "logs", console=False, verbose=True)
    logging.getLogger("claude_pulse.test").warning("first")
    logging.getLogger("claude_pulse.test").warning("second")
    assert victim.read_text() == "precious\n"
    err = capsys.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("claude-pulse: cannot write the log ") and "going on without it" in line


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_at_the_log_never_blocks(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "claude-pulse.log")
    configure(tmp_path, console=False, verbose=True)
    logging.getLogger("claude_pulse.test").warning("would block without O_NONBLOCK")
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "FIFO" in line


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (ENOSPC on write)")
@pytest.mark.parametrize("verbose", [False, True])
def test_disk_full_is_one_line_not_a_logging_error_block(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], verbose: bool) -> None:
    configure(tmp_path, console=False, verbose=verbose)
    handler = _file_handler()
    # A real ENOSPC from write(2): /dev/full fails every write that way.
    handler.stream = open("/dev/full", "a", encoding="utf-8")  # noqa: SIM115
    for i in range(3):
        logging.getLogger("claude_pulse.test").warning("record %d", i)
    err = capsys.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err
    if not verbose:
        assert err == ""  # the command's own output says what matters
        return
    (line,) = err.strip().splitlines()
    assert "No space left on device" in line


def test_log_file_opens_in_binary_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' os.open is text mode unless O_BINARY is given: under TextIOWrapper's own
    newline translation every line ended \\r\\r\\n. Simulated here by giving O_BINARY the value
    it has on Windows and recording the flags (the real check: test_on_windows)."""
    from claude_pulse import atomic

    o_binary = 0x8000
    seen: list[int] = []
    real_open = os.open

    def recording_open(path: object, flags: int, *args: object) -> int:
        seen.append(flags)
        return real_open(path, flags & ~o_binary, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "_O_BINARY", o_binary)
    monkeypatch.setattr(os, "open", recording_open)
    configure(tmp_path, console=False)
    logging.getLogger("claude_pulse.test").warning("line one")
    monkeypatch.undo()
    assert seen and all(flags & o_binary for flags in seen)
    assert (tmp_path / "claude-pulse.log").read_bytes().endswith(b"line one\n")
