"""The Windows build as far as Linux can check it: the PyInstaller spec (run with recording
stand-ins for PyInstaller's builders), the Inno Setup script's fields that matter, and that the
workflow builds and checks what those scripts define. Building, installing, running and
uninstalling happen in the workflow's windows-build job; actionlint runs in its lint job."""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from claude_pulse.cli import build_parser
from claude_pulse.platform.autostart import WINDOWS_GUI_SCRIPT
from claude_pulse.ui.notify import APP_NAME, windows_app_id

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "windows" / "claude-pulse.spec"
ISS = ROOT / "packaging" / "windows" / "claude-pulse.iss"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
APP_ID = windows_app_id(APP_NAME)  # the notifications' AppUserModelID (wiring.footprint too)


# --- the PyInstaller spec ---------------------------------------------------------------------


@dataclass
class Built:
    """What the spec asked PyInstaller to build."""

    analysis: dict[str, Any] = field(default_factory=dict)
    programs: list[dict[str, Any]] = field(default_factory=list)
    folder: dict[str, Any] = field(default_factory=dict)
    collected: list[tuple[str, str]] = field(default_factory=list)


def _run_spec(work: Path, monkeypatch: pytest.MonkeyPatch) -> Built:
    built = Built()

    def collect_submodules(package: str, **_kw: Any) -> list[str]:
        built.collected.append(("submodules", package))
        return [f"{package}.<all>"]

    def collect_data_files(package: str, **_kw: Any) -> list[tuple[str, str]]:
        built.collected.append(("data", package))
        return [(f"<{package} data>", package)]

    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = collect_submodules  # type: ignore[attr-defined]
    hooks.collect_data_files = collect_data_files  # type: ignore[attr-defined]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)

    class Analysis:
        def __init__(self, scripts: list[str], **kw: Any) -> None:
            built.analysis = {"scripts": scripts, **kw}
            self.pure, self.scripts, self.binaries, self.datas = "pure", "scripts", "bin", "data"

    def exe(*args: Any, **kw: Any) -> str:
        built.programs.append({"args": args, **kw})
        return str(kw["name"])

    def collect(*args: Any, **kw: Any) -> None:
        built.folder = {"args": args, **kw}

    names = {"Analysis": Analysis, "PYZ": lambda pure: ("pyz", pure), "EXE": exe,
             "COLLECT": collect, "SPECPATH": str(SPEC.parent), "workpath": str(work),
             "__file__": str(SPEC)}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), names)  # noqa: S102
    return built


def test_spec_builds_two_programs_in_one_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = _run_spec(tmp_path, monkeypatch)
    assert built.analysis["scripts"] == [str(ROOT / "src" / "claude_pulse" / "__main__.py")]
    assert built.analysis["pathex"] == [str(ROOT / "src")]
    # The commands are imported by name at run time: every module must be collected.
    assert ("submodules", "claude_pulse") in built.collected
    assert "claude_pulse.<all>" in built.analysis["hiddenimports"]
    assert ("data", "claude_pulse") in built.collected  # the logo (tray, window, toasts)

    by_name = {p["name"]: p for p in built.programs}
    assert set(by_name) == {"claude-pulse", "claude-pulse-tray"}
    assert by_name["claude-pulse"]["console"] is True  # --version, uninstall, status
    assert by_name["claude-pulse-tray"]["console"] is False  # shortcut and start at login
    # Start at login looks for this exact name beside the interpreter (here: beside the exe).
    assert f"{by_name['claude-pulse-tray']['name']}.exe" == WINDOWS_GUI_SCRIPT
    for program in built.programs:
        assert program["exclude_binaries"] is True  # one folder: binaries go to COLLECT
    assert built.folder["name"] == "claude-pulse"
    assert built.folder["args"][:2] == ("claude-pulse", "claude-pulse-tray")

    icon = Path(by_name["claude-pulse"]["icon"])
    assert icon == tmp_path / "claude-pulse.ico"
    assert by_name["claude-pulse-tray"]["icon"] == str(icon)
    with Image.open(icon) as ico:
        assert ico.format == "ICO"
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])


# --- the Inno Setup script --------------------------------------------------------------------


def _iss() -> dict[str, list[str]]:
    """Sections → their lines (comments dropped, continuation lines joined)."""
    sections: dict[str, list[str]] = {}
    current = ""
    text = ISS.read_text(encoding="utf-8").replace("\\\n", "")
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if re.fullmatch(r"\[\w+\]", line):
            current = line[1:-1]
            sections[current] = []
        else:
            sections.setdefault(current, []).append(line)
    return sections


def _defines() -> dict[str, str]:
    return dict(re.findall(r'^\s*#define (\w+) "([^"]*)"', ISS.read_text(encoding="utf-8"), re.M))


def _expand(value: str) -> str:
    for name, text in _defines().items():
        value = value.replace("{#" + name + "}", text)
    return value


def _setup(*, expand: bool = True) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in _iss()["Setup"])
    return {key.strip(): _expand(value.strip()) if expand else value.strip()
            for key, value in pairs}


def _entry(line: str) -> dict[str, str]:
    """One `Name: "x"; Flags: y` line of [Files]/[Icons]/[Run]/[UninstallRun]."""
    fields = re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]+)', line)
    return {key: _expand(value.strip().strip('"')) for key, value in fields}


def test_iss_is_a_per_user_install() -> None:
    setup = _setup()
    assert setup["PrivilegesRequired"] == "lowest"  # no admin rights, no UAC prompt
    assert setup["DefaultDirName"] == r"{localappdata}\Programs\Claude Pulse"
    assert re.fullmatch(r"\{\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", setup["AppId"])
    assert setup["AppName"] == APP_NAME
    assert setup["UninstallDisplayName"] == APP_NAME
    assert setup["UninstallDisplayIcon"] == rf"{{app}}\{WINDOWS_GUI_SCRIPT}"
    # Its inputs are what the spec produces: dist\<COLLECT name>, build\<spec name>\<icon>.
    assert _defines()["Dist"] == r"..\..\dist\claude-pulse"
    assert setup["SetupIconFile"] == r"..\..\build\claude-pulse\claude-pulse.ico"
    assert SPEC.stem == "claude-pulse"
    files = [_entry(line) for line in _iss()["Files"]]
    assert files == [{"Source": r"..\..\dist\claude-pulse\*", "DestDir": "{app}",
                      "Flags": "ignoreversion recursesubdirs createallsubdirs"}]


def test_iss_start_menu_shortcut_carries_the_apps_id_and_icon() -> None:
    [icon] = [_entry(line) for line in _iss()["Icons"]]
    assert icon["Name"] == r"{userprograms}\Claude Pulse"
    assert icon["Filename"] == rf"{{app}}\{WINDOWS_GUI_SCRIPT}"  # no console window
    # The id our toasts use: Windows then shows them under this shortcut's name and icon.
    assert icon["AppUserModelID"] == APP_ID == "ClaudePulse"
    assert icon["IconFilename"] == rf"{{app}}\{WINDOWS_GUI_SCRIPT}"


def test_iss_uninstaller_runs_our_uninstall_step_first() -> None:
    [step] = [_entry(line) for line in _iss()["UninstallRun"]]
    assert step["Filename"] == r"{app}\claude-pulse.exe"
    assert "runhidden" in step["Flags"] and "waituntilterminated" in step["Flags"]
    assert step["Parameters"] == "{code:UninstallArguments}"
    code = "\n".join(_iss()["Code"])
    assert "function UninstallArguments(Param: String): String;" in code
    arguments = re.findall(r"Result := '([^']*)'", code)
    assert arguments == ["uninstall --purge --yes", "uninstall"]
    for line in arguments:  # what the uninstaller passes must be valid for our command line
        args = build_parser().parse_args(line.split())
        assert args.command == "uninstall"
    # Silent uninstalls (scripts, CI) never delete the user's login.
    assert "if not UninstallSilent() then" in code


# --- the workflow -----------------------------------------------------------------------------


def test_workflow_builds_and_checks_what_the_scripts_define() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "pyinstaller --noconfirm --clean packaging/windows/claude-pulse.spec" in text
    assert r"packaging\windows\claude-pulse.iss" in text
    assert "run: scripts/test-min-versions" in text
    setup = _setup()
    guid = setup["AppId"][1:]  # "{{" escapes "{" in Inno
    assert f"Uninstall\\{guid}_is1" in text  # the Installed-apps entry it checks
    output = _setup(expand=False)["OutputBaseFilename"]
    assert output.replace("{#AppVersion}", "$env:VERSION") + ".exe" in text
    assert f'$aumid -ne "{APP_ID}"' in text
