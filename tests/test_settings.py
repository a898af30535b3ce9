"""`Settings`: the current config, changes through `update()`, hand edits noticed by `check()`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from claude_pulse.config import Config
from claude_pulse.errors import ConfigError
from claude_pulse.services.settings import Settings


def write(path: Path, value: object) -> None:
    path.write_text(json.dumps(value), encoding="utf-8")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config.json"


def test_starts_from_the_file_or_the_defaults(path: Path) -> None:
    assert Settings(path).current() == Config()
    write(path, {"poll_interval_seconds": 120})
    assert Settings(path).current().poll_interval_seconds == 120


def test_update_saves_applies_and_tells_subscribers(path: Path) -> None:
    write(path, {"my_note": "keep me"})
    settings = Settings(path)
    seen: list[tuple[Config, Config]] = []
    settings.subscribe(lambda old, new: seen.append((old, new)))
    new = settings.update(poll_interval_seconds=300, notifications_enabled=False)
    assert new == settings.current()
    assert new.poll_interval_seconds == 300 and not new.notifications_enabled
    assert json.loads(path.read_text()) == {"my_note": "keep me", "poll_interval_seconds": 300,
                                            "notifications_enabled": False}
    ((old, after),) = seen
    assert old.poll_interval_seconds == 180 and after == new
    assert not settings.check()  # our own save is not a hand edit


def test_update_with_a_bad_value_changes_nothing(path: Path) -> None:
    settings = Settings(path)
    seen: list[object] = []
    settings.subscribe(lambda old, new: seen.append(new))
    with pytest.raises(ConfigError, match="user_agent must be"):
        settings.update(user_agent="a\r\nb")
    assert settings.current() == Config() and seen == [] and not path.exists()


def test_update_never_overwrites_a_file_that_does_not_parse(path: Path) -> None:
    path.write_text("{ oops", encoding="utf-8")
    settings = Settings(path)
    assert not settings.file_is_valid and "left as it is" in settings.problems[0]
    with pytest.raises(ConfigError, match="not saving over it"):
        settings.update(notifications_enabled=False)
    assert path.read_text() == "{ oops"


def test_check_picks_up_a_hand_edit_once(path: Path) -> None:
    write(path, {"poll_interval_seconds": 60})
    settings = Settings(path)
    seen: list[int] = []
    settings.subscribe(lambda old, new: seen.append(new.poll_interval_seconds))
    assert not settings.check()
    write(path, {"poll_interval_seconds": 90})
    assert settings.check()
    assert settings.current().poll_interval_seconds == 90 and seen == [90]
    assert not settings.check()


def test_check_sees_an_edit_within_the_same_mtime_tick(path: Path) -> None:
    write(path, {"poll_interval_seconds": 60})
    settings = Settings(path)
    stat = path.stat()
    write(path, {"poll_interval_seconds": 900})
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime, other size
    assert settings.check()
    assert settings.current().poll_interval_seconds == 900


def test_a_broken_edit_keeps_the_settings_in_use_and_reports_it(path: Path) -> None:
    write(path, {"poll_interval_seconds": 90, "notifications_enabled": False})
    settings = Settings(path)
    problems: list[tuple[str, ...]] = []
    settings.subscribe(lambda old, new: problems.append(settings.problems))
    path.write_text('{"poll_interval_seconds": 90,', encoding="utf-8")  # saved mid-edit
    assert settings.check()
    assert settings.current().poll_interval_seconds == 90
    assert settings.current().notifications_enabled is False
    assert not settings.file_is_valid and problems and "cannot be read" in problems[0][0]
    with pytest.raises(ConfigError):
        settings.update(notifications_enabled=True)
    write(path, {"poll_interval_seconds": 120})  # fixed: applies, problem gone
    assert settings.check()
    assert settings.current().poll_interval_seconds == 120 and settings.file_is_valid
    assert settings.current().notifications_enabled is True  # not in the file: the default
    path.unlink()  # deleting the file is an edit too: back to the defaults, no problem
    assert settings.check()
    assert settings.current() == Config() and settings.problems == ()


def test_a_bad_value_in_an_edit_falls_back_to_that_keys_default(path: Path) -> None:
    write(path, {"poll_interval_seconds": 90, "notifications_enabled": False})
    settings = Settings(path)
    write(path, {"poll_interval_seconds": 5, "notifications_enabled": False})
    assert settings.check()
    assert settings.current().poll_interval_seconds == 180  # as a restart would give
    assert settings.current().notifications_enabled is False
    assert "poll_interval_seconds must be" in settings.problems[0]


def test_a_failing_subscriber_does_not_stop_the_others(path: Path) -> None:
    settings = Settings(path)
    seen: list[bool] = []

    def broken(old: Config, new: Config) -> None:
        raise RuntimeError("bug")

    settings.subscribe(broken)
    settings.subscribe(lambda old, new: seen.append(new.notifications_enabled))
    settings.update(notifications_enabled=False)
    assert seen == [False]


def test_unsubscribe(path: Path) -> None:
    settings = Settings(path)
    seen: list[object] = []
    unsubscribe = settings.subscribe(lambda old, new: seen.append(new))
    unsubscribe()
    unsubscribe()  # twice is harmless
    settings.update(notifications_enabled=False)
    assert seen == []


def test_settings_without_a_file_change_in_memory() -> None:
    settings = Settings.of(Config(poll_interval_seconds=45))
    assert not settings.check()
    assert settings.update(poll_interval_seconds=120).poll_interval_seconds == 120
    with pytest.raises(ConfigError):
        settings.update(poll_interval_seconds=1)
