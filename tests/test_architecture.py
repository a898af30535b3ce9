"""The layering of design.md §4, checked: the core imports no I/O, GUI or HTTP module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import claude_pulse

PACKAGE = Path(claude_pulse.__file__).parent
FORBIDDEN_IN_CORE = {
    "tkinter", "pystray", "PIL", "urllib", "http", "socket", "requests", "sqlite3",
    "subprocess", "threading", "filelock", "desktop_notifier", "os", "shutil",
    "claude_pulse.services", "claude_pulse.ui", "claude_pulse.platform", "claude_pulse.app",
}


def runtime_imports(path: Path) -> set[str]:
    """Imports outside `if TYPE_CHECKING:` blocks (those cost nothing at run time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    "module", [pytest.param(p, id=p.name) for p in sorted((PACKAGE / "core").glob("*.py"))]
)
def test_core_is_pure(module: Path) -> None:
    bad = {name for name in runtime_imports(module)
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE)}
    assert not bad, f"{module.name} imports {sorted(bad)}"


def test_statusline_and_cli_entry_do_not_import_gui_at_module_level() -> None:
    for name in ("cli.py", "wiring.py", "commands/statusline.py"):
        path = PACKAGE / name
        if not path.exists():
            continue
        heavy = {n for n in runtime_imports(path)
                 if n.split(".")[0] in {"tkinter", "pystray", "PIL", "sqlite3"}}
        assert not heavy, f"{name} imports {sorted(heavy)} at module level"


