"""The distribution: build the real wheel and sdist, then check what is in them.

The build runs offline (`python -m build --no-isolation`, with the test extras' setuptools) on
a copy of the source tree, so the checkout gets no build/ or egg-info. The sdist must be a
complete source release: its own tests collect from an unpacked copy.
"""

from __future__ import annotations

import configparser
import email.parser
import email.policy
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import claude_pulse

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DIST_NAME = "claude-pulse-tray"
# Hosts a Project-URL may point at: only ones that exist for this project whatever its
# repository turns out to be. Adding a repository host is a decision, not a guess.
KNOWN_URL_HOSTS = {"pypi.org"}
_SKIP_COPY = shutil.ignore_patterns(
    ".git", ".venv*", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.py[cod]",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
)


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_SKIP_COPY)
    out = work / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    yield Built(wheel, sdist)


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project: dict[str, object] = tomllib.load(f)["project"]
    return project


def _wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode("utf-8")
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def test_file_names_carry_the_distribution_name(built: Built) -> None:
    version = claude_pulse.__version__
    assert built.wheel.name == f"claude_pulse_tray-{version}-py3-none-any.whl"
    assert built.sdist.name == f"claude_pulse_tray-{version}.tar.gz"


def test_wheel_metadata(built: Built) -> None:
    meta = _wheel_metadata(built.wheel)
    assert meta["Name"] == DIST_NAME
    assert meta["Version"] == claude_pulse.__version__
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier") or []
    for wanted in ("Environment :: MacOS X", "Environment :: Win32 (MS Windows)",
                   "Programming Language :: Python :: 3.11", "Typing :: Typed"):
        assert wanted in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert any(c.startswith("Topic :: ") for c in classifiers)
    # The declared dependencies, exactly (the lower bounds scripts/test-min-versions proves).
    requires = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert sorted(requires) == sorted(str(d) for d in _pyproject()["dependencies"])  # type: ignore[attr-defined]
    assert meta.get_content_type() == "text/plain"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert "claude-pulse-tray" in meta.get_payload()  # the README, with its install lines


def test_project_urls_point_only_at_known_hosts(built: Built) -> None:
    urls = _wheel_metadata(built.wheel).get_all("Project-URL") or []
    assert urls, "the Documentation link is missing"
    for entry in urls:
        label, _, url = entry.partition(", ")
        parts = urlsplit(url)
        assert parts.scheme == "https", entry
        assert parts.hostname in KNOWN_URL_HOSTS, f"{label}: {url} is not a known host"


def test_wheel_contents(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as archive:
        names = set(archive.namelist())
        dist_info = next(n.split("/")[0] for n in names if ".dist-info/" in n)
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())
    tops = {n.split("/")[0] for n in names}
    assert tops == {"claude_pulse", dist_info}, "nothing but the package (no tests/, no docs/)"
    package = ROOT / "src" / "claude_pulse"
    modules = {f"claude_pulse/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    assert modules <= names
    assert {"claude_pulse/py.typed", "claude_pulse/assets/logo.png"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert dict(entry_points["console_scripts"]) == {"claude-pulse": "claude_pulse.cli:main"}
    assert dict(entry_points["gui_scripts"]) == {"claude-pulse-tray": "claude_pulse.cli:main"}


def _tracked_like(folder: str) -> set[str]:
    """What the source tree has under `folder` (without caches): the sdist must carry it all."""
    base = ROOT / folder
    return {
        p.relative_to(ROOT).as_posix()
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        and not p.name.endswith(".tmp")
    }


def test_sdist_is_a_complete_source_release(built: Built) -> None:
    prefix = built.sdist.name.removesuffix(".tar.gz") + "/"
    with tarfile.open(built.sdist) as archive:
        names = {m.name.removeprefix(prefix) for m in archive.getmembers() if m.isfile()}
    for wanted in ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "MANIFEST.in",
                   "tests/conftest.py", "tests/support/__init__.py", "scripts/test",
                   "scripts/test-min-versions", "assets/logo.png", "docs/reliability.md",
                   "docs/performance.md"):
        assert wanted in names
    for folder in ("tests", "docs", "src", "assets", "scripts", "packaging", ".github"):
        if (ROOT / folder).is_dir():
            missing = _tracked_like(folder) - names
            assert not missing, f"not in the sdist: {sorted(missing)[:10]}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_twine_check_strict(built: Built) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built.wheel), str(built.sdist)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def _collected(tree: Path, pythonpath: Path) -> int:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-m", ""],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    match = re.search(r"^(\d+) tests? collected", result.stdout, re.MULTILINE)
    assert match, result.stdout[-2000:]
    return int(match.group(1))


def test_sdist_tests_collect(built: Built, tmp_path: Path) -> None:
    with tarfile.open(built.sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (unpacked,) = tmp_path.iterdir()
    # The unpacked src/ comes first on the path, so the sdist's own code is what gets imported.
    assert _collected(unpacked, unpacked / "src") == _collected(ROOT, ROOT / "src")
