"""The layering of design.md §4, checked on every module's imports.

Layers, inner to outer; a module may import its own layer and the ones inside it, never outward:

    core, errors           pure: no I/O, no GUI, no HTTP
    atomic, config(_keys)  files and settings every part shares
    platform, home(_trust) the operating system (ACLs, logs, autostart, single instance)
    oauth                  the login protocol (through core.http's transport seam)
    services, fake         I/O through injected seams; the fake Anthropic server
    ui                     Tk, pystray, Pillow, notifications
    app, desktop, commands, wiring, cli, fastline, __main__   composition and entry points

`if TYPE_CHECKING:` imports count too: a type that lives in an outer layer is a dependency on it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import claude_pulse

PACKAGE = Path(claude_pulse.__file__).parent
FORBIDDEN_IN_CORE = {
    "tkinter", "pystray", "PIL", "urllib", "http", "socket", "requests", "sqlite3",
    "subprocess", "threading", "filelock", "desktop_notifier", "os", "shutil",
}
LAYERS: dict[str, int] = {
    "__init__": 0, "core": 0, "errors": 0,
    "atomic": 1, "config": 1, "config_keys": 1,
    "platform": 2, "home": 2, "home_trust": 2,
    "oauth": 3,
    "services": 4, "fake": 4,
    "ui": 5,
    "app": 6, "desktop": 6, "commands": 6, "wiring": 6, "cli": 6, "fastline": 6, "__main__": 6,
}


def all_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(["claude_pulse", *parts])


def layer_of(module: str) -> int:
    """The layer of `claude_pulse.x.y` (by its first part below the package)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    if top not in LAYERS:
        raise AssertionError(f"{module}: not in any layer; add it to LAYERS")
    return LAYERS[top]


def imports(path: Path, *, runtime_only: bool = False) -> set[str]:
    """Absolute module names imported by `path` (with `runtime_only`, not those under
    `if TYPE_CHECKING:`, which cost nothing at run time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                node.body = []
    package = module_name(path) if path.name == "__init__.py" else \
        module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from claude_pulse import config` imports the module claude_pulse.config
            found.update(f"{base}.{alias.name}" for alias in node.names
                         if (PACKAGE / Path(*f"{base}.{alias.name}".split(".")[1:])).with_suffix(
                             ".py").exists() or (PACKAGE / Path(
                                 *f"{base}.{alias.name}".split(".")[1:]) / "__init__.py").exists())
    return found


def runtime_imports(path: Path) -> set[str]:
    return imports(path, runtime_only=True)


def ours(names: set[str]) -> set[str]:
    return {n for n in names if n.startswith("claude_pulse.")}


@pytest.mark.parametrize("module", [pytest.param(p, id=module_name(p)) for p in all_modules()])
def test_no_import_points_outward(module: Path) -> None:
    me = module_name(module)
    mine = layer_of(me)
    outward = {name for name in ours(imports(module)) if layer_of(name) > mine}
    assert not outward, f"{me} (layer {mine}) imports outer layers: {sorted(outward)}"


@pytest.mark.parametrize(
    "module", [pytest.param(p, id=p.name) for p in sorted((PACKAGE / "core").glob("*.py"))]
)
def test_core_is_pure(module: Path) -> None:
    bad = {name for name in runtime_imports(module)
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE)}
    assert not bad, f"{module.name} imports {sorted(bad)}"


def test_oauth_does_not_reach_into_services() -> None:
    """The login protocol sees only the transport seam (core.http), not the services using it."""
    for path in (PACKAGE / "oauth").glob("*.py"):
        assert not {n for n in ours(imports(path)) if n.startswith("claude_pulse.services")}, \
            path.name


def test_no_import_cycles_between_modules() -> None:
    graph = {module_name(p): {n for n in ours(imports(p)) if n != module_name(p)}
             for p in all_modules()}
    # A package's __init__ re-exporting its own submodules is not a cycle worth reporting.
    for name, deps in graph.items():
        graph[name] = {d for d in deps if d in graph and not name.startswith(d + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep):], dep] if dep in path else [node, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_only_the_composition_root_builds_the_parts() -> None:
    """Collaborators are built in wiring.py; everything else receives them (tests may build)."""
    parts = {"Services", "Settings", "TokenManager", "UsageClient", "UsageFetcher",
             "LoginSession", "Poller", "RequestGate", "SnapshotStore", "CredentialStore",
             "HistoryStore", "AlertMemoryStore", "UrllibTransport", "LazyNotifier"}
    offenders = []
    for path in all_modules():
        if path.name == "wiring.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else \
                    func.attr if isinstance(func, ast.Attribute) else ""
                if name in parts:
                    offenders.append(f"{module_name(path)}:{node.lineno} builds {name}")
    assert not offenders, offenders


def test_statusline_and_cli_entry_do_not_import_gui_at_module_level() -> None:
    for name in ("cli.py", "wiring.py", "commands/statusline.py"):
        path = PACKAGE / name
        heavy = {n for n in runtime_imports(path)
                 if n.split(".")[0] in {"tkinter", "pystray", "PIL", "sqlite3"}}
        assert not heavy, f"{name} imports {sorted(heavy)} at module level"
