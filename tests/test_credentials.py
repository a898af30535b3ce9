"""The credentials file: round trip, 0600, unknown keys kept, corrupt files set aside."""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import CredentialsError
from claude_pulse.services.credentials import CredentialStore

NOW = datetime(2026, 11, 28, 12, 0, 5, tzinfo=timezone.utc)
TOKENS = TokenSet("sk-ant-oat01-aaaa", "sk-ant-ort01-bbbb", NOW + timedelta(hours=8),
                  scope="user:inference user:profile", email="pulse@example.com")


@pytest.fixture
def store(pulse_home: Path) -> CredentialStore:
    return CredentialStore(pulse_home / "credentials.json", clock=lambda: NOW)


def test_missing_file_is_not_logged_in(store: CredentialStore) -> None:
    assert store.load() is None


def test_round_trip(store: CredentialStore) -> None:
    store.save(TOKENS)
    assert store.load() == TOKENS
    data = json.loads(store.path.read_text())
    assert set(data) >= {"access_token", "refresh_token", "expires_at", "token_type", "scope",
                         "email"}


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_file_is_0600_and_folder_0700(store: CredentialStore) -> None:
    store.save(TOKENS)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_unknown_keys_survive_save(store: CredentialStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps({**TOKENS.to_json(), "future_key": {"x": 1}}))
    store.save(TokenSet("new-a", "new-r", TOKENS.expires_at))
    data = json.loads(store.path.read_text())
    assert data["future_key"] == {"x": 1}
    assert data["access_token"] == "new-a"


def test_no_temp_files_left(store: CredentialStore) -> None:
    store.save(TOKENS)
    store.save(TOKENS)
    assert [p.name for p in store.path.parent.iterdir()] == ["credentials.json"]


@pytest.mark.parametrize("content", [
    pytest.param(b"{not json", id="bad-json"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe\x00", id="not-utf8"),
    pytest.param(b"[1, 2]", id="array"),
    pytest.param(b'{"access_token": "sk-ant-oat01-zzzz"}', id="missing-fields"),
    pytest.param(b'{"access_token": "a", "refresh_token": "r", "expires_at": "x"}',
                 id="bad-expiry"),
])
def test_corrupt_file_is_set_aside_with_one_line(store: CredentialStore, content: bytes) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)
    with pytest.raises(CredentialsError) as info:
        store.load()
    message = str(info.value)
    aside = store.path.with_name("credentials.json.corrupt-20261128T120005Z")
    assert "\n" not in message
    assert aside.name in message and "claude-pulse login" in message
    assert "sk-ant" not in message
    assert aside.read_bytes() == content
    assert not store.path.exists()
    assert store.load() is None  # the next start is clean


def test_second_corrupt_file_same_second_gets_its_own_name(store: CredentialStore) -> None:
    store.path.parent.mkdir(parents=True)
    for content in (b"{", b"["):
        store.path.write_bytes(content)
        with pytest.raises(CredentialsError):
            store.load()
    names = sorted(p.name for p in store.path.parent.iterdir())
    assert names == ["credentials.json.corrupt-20261128T120005Z",
                     "credentials.json.corrupt-20261128T120005Z-2"]


def test_save_over_corrupt_file_replaces_it(store: CredentialStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"{broken")
    store.save(TOKENS)
    assert store.load() == TOKENS


def test_clear(store: CredentialStore) -> None:
    assert store.clear() == []
    store.save(TOKENS)
    assert store.clear() == [store.path]
    assert store.load() is None


def test_repr_names_the_path_only(store: CredentialStore) -> None:
    store.save(TOKENS)
    assert "sk-ant" not in repr(store)



def test_unwritable_location_is_a_credentials_error(pulse_home: Path) -> None:
    pulse_home.mkdir(parents=True)
    (pulse_home / "not-a-folder").write_text("")
    store = CredentialStore(pulse_home / "not-a-folder" / "credentials.json")
    with pytest.raises(CredentialsError, match="Could not save") as info:
        store.save(TOKENS)
    assert "sk-ant" not in str(info.value)


def test_a_save_killed_before_its_rename_is_finished_on_next_load(tmp_path: Path) -> None:
    """Regression (crash-safety kill loop): the server had rotated the refresh token and the
    process died after writing the temp file but before `os.replace`; the only valid refresh
    token sat in the temp file and the next start forced a new login."""
    store = CredentialStore(tmp_path / "credentials.json")
    old = TokenSet("sk-ant-oat01-old", "sk-ant-ort01-old",
                    datetime(2030, 1, 1, tzinfo=timezone.utc))
    store.save(old)
    past = time.time() - 120
    os.utime(store.path, (past, past))
    new = TokenSet("sk-ant-oat01-new", "sk-ant-ort01-new",
                    datetime(2030, 1, 2, tzinfo=timezone.utc))
    tmp = store.path.with_name(".credentials.json.dead0000.tmp")
    tmp.write_text(json.dumps(new.to_json()))
    when = time.time() - 30
    os.utime(tmp, (when, when))
    loaded = store.load()
    assert loaded is not None and loaded.refresh_token == "sk-ant-ort01-new"
    assert not tmp.exists()


def test_logout_also_removes_leftover_temp_files(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.json")
    store.path.write_text("{}")
    tmp = store.path.with_name(".credentials.json.dead0000.tmp")
    tmp.write_text('{"refresh_token": "sk-ant-ort01-x"}')
    assert store.clear()
    assert list(tmp_path.iterdir()) == []
