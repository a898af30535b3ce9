"""The tray icon: a thin wrapper around pystray, plus the Tk popup menu for the xorg backend.

Threading (design.md §4, feasibility.md §2-3): pystray's `Icon.run()` runs in a plain daemon
thread, never `run_detached` (with Tk it hangs at exit on xorg and never docks on gtk); macOS is
the exception, where AppKit needs the main thread and the icon attaches to Tk's Cocoa loop
(unverified here). Menu callbacks arrive on the tray thread; each one only hands its action to
`post`, which runs it on the Tk main thread. Image, title and check-mark updates are made from the
main thread; pystray forwards them to its own loop (xorg: an X client message, sent on a second X
connection, see `ui.tray_xorg`; gtk: `idle_add`; win32: `Shell_NotifyIcon`).

A left click toggles the Deep Dive window (`on_activate`). The menu (design.md §5): the numbers
on trays without tooltips, then Open Deep Dive (default, bold), Refresh now, Limit Alerts ✓,
Start at login ✓, Log out, Quit. It is described once (`MenuEntry`) and built twice:

* Windows, macOS, gtk, appindicator: pystray's own native menu.
* xorg (pystray's default when no GObject is installed): pystray has no menus there and, in
  0.19.5, no working left click either, because the icon window does not select
  `ButtonPressMask` (feasibility.md §2, pystray issue #151). `ui.tray_xorg` adds the mask,
  turns a right click (on release) into `on_context_menu(x, top, bottom)` — the pointer's x
  and the icon's vertical extent; the app pops up a `tk.Menu` built by `build_tk_menu` just
  below (or above) the icon — sizes the image to the slot the tray gives (square,
  centred, instead of stretched) and blends it onto the tray's own background (the stock
  backend pastes onto black).

The backend is chosen by pystray's own rules (`PYSTRAY_BACKEND` honoured); pystray is imported
lazily because importing it with no display raises (feasibility.md §2).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image

if TYPE_CHECKING:
    import tkinter as tk

__all__ = ["MenuEntry", "Tray", "build_tk_menu", "has_tooltip", "icon_size_for"]

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]
# The lines that open the menu where the tray shows no tooltip ("Session 42% · resets 14:05").
InfoLines = Callable[[], Sequence[str]]
# Renders the icon for the current state at a square pixel size (RGBA).
Renderer = Callable[[int], Image.Image]

# Windows' NOTIFYICONDATA.szTip holds 128 UTF-16 units including the terminator.
_MAX_TOOLTIP = 127
_JOIN_TIMEOUT_S = 3.0
# Info lines a native menu has room for (its items are made once; unused ones are hidden).
_INFO_SLOTS = 4
# XEmbed trays have no tooltip at all; AppIndicator (StatusNotifierItem) hosts ignore its title.
_NO_TOOLTIP = frozenset({"xorg", "appindicator"})


@dataclass(frozen=True)
class MenuEntry:
    """One menu item. `action` runs on the Tk main thread; `checked` and `text` (the label
    now, when it changes: "Updated just now") are read from any thread."""

    label: str
    action: Callable[[], None]
    checked: Callable[[], bool] | None = None
    default: bool = False
    separator_before: bool = False
    text: Callable[[], str] | None = None

    def label_now(self) -> str:
        return self.text() if self.text is not None else self.label


def has_tooltip(backend: str) -> bool:
    """Whether the backend's tray shows the icon's title on hover."""
    return backend not in _NO_TOOLTIP


def icon_size_for(backend: str, scale: float = 1.0) -> int:
    """The square size to render for a backend that takes one image (xorg asks per slot);
    `scale` is the display's (2.0 at 192 dpi)."""
    if backend == "darwin":
        return 44  # 22 pt menu bar at 2x
    if backend == "win32":
        return 32  # LoadImage(LR_DEFAULTSIZE) loads SM_CXICON, 32 px at 100 %
    # gtk and appindicator write one PNG. GtkStatusIcon shrinks it to its slot but never
    # enlarges it (a 32 px image stays 32 px in a 48 px panel); AppIndicator hosts (GNOME's
    # extension, KDE) scale the file to their icon size times the desktop's scale, which
    # pystray cannot ask. Twice a 32 px icon at the display's scale: 64 px at 1x, 128 at 2x,
    # so tall and HiDPI panels stay crisp, and small icons are shrunk (averaged), not blown up.
    return max(64, min(256, 32 * math.ceil(2 * scale - 1e-9)))


class Tray:
    """One tray icon. Create, `start()`, `update()` and `stop()` on the main thread."""

    def __init__(
        self,
        *,
        post: Post,
        entries: Sequence[MenuEntry],
        on_context_menu: Callable[[int, int, int], None] | None = None,
        on_session_end: Callable[[], None] | None = None,
        info: InfoLines | None = None,
        on_activate: Callable[[], None] | None = None,
        name: str = "claude-pulse",
        scale: float = 1.0,
    ) -> None:
        """`on_session_end` runs on the main thread when Windows ends the session (logoff,
        shutdown); the app quits there (ui/tray_win32.py). `info` gives the lines a native menu
        starts with on a backend without tooltips (read on the tray thread: it must only read
        values the main thread has set). `on_activate` is the left click (the window's toggle);
        without it the left click runs the default entry. `scale` is the display's, for the
        size of the one image gtk and appindicator take."""
        self._post = post
        self._on_activate = on_activate
        self._entries = tuple(entries)
        self._info = info
        self._on_context_menu = on_context_menu
        self._on_session_end = on_session_end
        self._stopping = threading.Event()
        self._name = name
        self._scale = scale
        self._icon: Any = None
        self._thread: threading.Thread | None = None
        self._renderer: Renderer | None = None
        self.backend = ""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, renderer: Renderer, title: str) -> None:
        """Import pystray, create the icon and run its loop in a daemon thread."""
        import pystray

        module = pystray.Icon.__module__.rsplit(".", 1)[-1]
        self.backend = module.lstrip("_")
        icon_class: Any = pystray.Icon
        if self.backend == "xorg":
            from claude_pulse.ui.tray_xorg import xorg_icon_class

            icon_class = xorg_icon_class(pystray.Icon)
        self._renderer = renderer
        menu = pystray.Menu(*self._pystray_items(pystray))
        kwargs: dict[str, Any] = {}
        if self.backend == "xorg":
            kwargs["on_right_click"] = self._context_menu_from_tray
            kwargs["renderer"] = self._render_for_slot
        if self.backend == "win32":
            from claude_pulse.ui.tray_win32 import win32_icon_class

            icon_class = win32_icon_class(pystray.Icon)
            kwargs["renderer"] = self._render_for_slot  # every size of the ICO, from us
        self._icon = icon_class(
            self._name, renderer(self._size()), self._title(title), menu, **kwargs
        )
        if self.backend == "win32":
            from claude_pulse.ui.tray_win32 import session_end_handlers

            # Logoff and shutdown: pystray alone would answer "don't end the session".
            self._icon._message_handlers.update(
                session_end_handlers(self._session_ending, self._stopping))
        if self.backend == "darwin":
            # AppKit wants the main thread, which Tk's Aqua loop already runs: attach to it and
            # show the icon from here (pystray's default setup would do it from a thread).
            # Not verifiable on these machines (feasibility.md §2); see the README.
            self._icon.run_detached(setup=lambda _icon: None)
            self._icon.visible = True
        else:
            # A plain thread, not run_detached (see the module docstring). Daemon, so a stuck
            # backend can never keep the process alive after Quit.
            self._thread = threading.Thread(target=self._icon.run, name="pulse-tray",
                                            daemon=True)
            self._thread.start()
        log.info("tray icon started with the %s backend", self.backend)

    def update(self, renderer: Renderer, title: str) -> None:
        """Show a new image and tooltip (main thread)."""
        self._renderer = renderer
        if self._icon is None:
            return
        try:
            self._icon.icon = renderer(self._size())
            self._icon.title = self._title(title)
        except Exception:
            # A tray host that went away must not take the app down; the window still works.
            log.warning("could not update the tray icon", exc_info=True)
        if self._info is not None and not has_tooltip(self.backend):
            self.refresh_menu()  # the numbers in the menu's first lines

    def host_present(self) -> bool | None:
        """Whether a tray host is there to show the icon (xorg: a tray owns the selection);
        None where that cannot be told (the other backends always have one)."""
        check = getattr(self._icon, "tray_host_present", None)
        if check is None:
            return None
        try:
            return bool(check())
        except Exception:
            log.debug("could not ask for the tray host", exc_info=True)
            return None

    def refresh_menu(self) -> None:
        """Re-read the check marks (after a toggle changed them on the main thread)."""
        if self._icon is not None and self._icon.HAS_MENU:
            try:
                self._icon.update_menu()
            except Exception:
                log.warning("could not update the tray menu", exc_info=True)

    def stop(self) -> None:
        self._stopping.set()  # a WM_ENDSESSION handler waiting on the tray thread may return
        icon, self._icon = self._icon, None
        if icon is None:
            return
        try:
            # No `visible = False` first: on xorg an undock just before the destroy sometimes
            # leaves pystray's loop waiting for a DestroyNotify that never comes.
            icon.stop()
        except Exception:
            log.warning("tray icon stop failed", exc_info=True)
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_TIMEOUT_S)
        self._forget()

    # ---- internals ----

    def _size(self) -> int:
        return icon_size_for(self.backend, self._scale)

    def _title(self, title: str) -> str:
        return _latin1(_clip(title)) if self.backend == "xorg" else _clip(title)

    def _pystray_items(self, pystray: Any) -> list[Any]:
        items: list[Any] = []
        if self._on_activate is not None:
            # pystray's left click runs the first default item, visible or not; the visible
            # default entry stays bold in native menus and opens the window from there.
            items.append(pystray.MenuItem("Toggle", self._activated, default=True,
                                          visible=False))
        if self._info is not None and not has_tooltip(self.backend):
            for slot in range(_INFO_SLOTS):
                items.append(pystray.MenuItem(self._info_text(slot), None, enabled=False,
                                              visible=self._info_visible(slot)))
            items.append(pystray.Menu.SEPARATOR)
        for index, entry in enumerate(self._entries):
            if entry.separator_before:
                items.append(pystray.Menu.SEPARATOR)
            items.append(pystray.MenuItem(
                self._label(index) if entry.text is not None else entry.label,
                self._from_tray(index),
                checked=self._checked(index) if entry.checked is not None else None,
                default=entry.default,
            ))
        return items

    # The pystray objects reach the app only through `self`, by index, so that `_forget()`
    # can cut every path from the tray thread to Tk objects (see TkScheduler.close).

    def _from_tray(self, index: int) -> Callable[[Any, Any], None]:
        # Runs on the pystray thread: never touch Tk here, only hand the action over.
        def callback(_icon: Any, _item: Any) -> None:
            if index < len(self._entries):
                self._post(self._entries[index].action)

        return callback

    def _activated(self, _icon: Any, _item: Any) -> None:
        handler = self._on_activate  # the tray thread: only hand it over
        if handler is not None:
            self._post(handler)

    def _checked(self, index: int) -> Callable[[Any], bool]:
        def checked(_item: Any) -> bool:
            entry = self._entries[index] if index < len(self._entries) else None
            return bool(entry is not None and entry.checked is not None and entry.checked())

        return checked

    def _label(self, index: int) -> Callable[[Any], str]:
        def label(_item: Any) -> str:
            entries = self._entries
            return entries[index].label_now() if index < len(entries) else ""

        return label

    def _info_lines(self) -> Sequence[str]:
        info = self._info
        return () if info is None else info()[:_INFO_SLOTS]

    def _info_text(self, slot: int) -> Callable[[Any], str]:
        def text(_item: Any) -> str:
            lines = self._info_lines()
            return lines[slot] if slot < len(lines) else ""

        return text

    def _info_visible(self, slot: int) -> Callable[[Any], bool]:
        return lambda _item: slot < len(self._info_lines())

    def _forget(self) -> None:
        self._entries = ()
        self._info = None
        self._on_activate = None
        self._post = _drop
        self._on_context_menu = None
        self._on_session_end = None
        self._renderer = None

    def _session_ending(self) -> None:
        # The tray thread, inside the window procedure: only hand the quit over.
        handler = self._on_session_end
        if handler is not None:
            self._post(handler)

    def _context_menu_from_tray(self, x: int, top: int, bottom: int) -> None:
        if self._on_context_menu is not None:
            handler = self._on_context_menu
            self._post(lambda: handler(x, top, bottom))

    def _render_for_slot(self, size: int) -> Image.Image:
        renderer = self._renderer
        if renderer is None:
            return Image.new("RGBA", (size, size), (0, 0, 0, 0))
        return renderer(size)


def _drop(_fn: Callable[[], None]) -> None:
    """`post` after stop: the app is gone, nothing runs any more."""


def _clip(title: str) -> str:
    return title if len(title) <= _MAX_TOOLTIP else title[: _MAX_TOOLTIP - 1] + "…"


_LATIN1 = str.maketrans({"…": "...", "–": "-", "—": "-", "✓": "v"})


def _latin1(title: str) -> str:
    # python-xlib writes WM_NAME as Latin-1 STRING; anything else raises UnicodeEncodeError.
    return title.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def build_tk_menu(parent: tk.Misc, entries: Sequence[MenuEntry],
                  info: InfoLines | None = None) -> tk.Menu:
    """The same menu as a Tk popup (xorg), opening with the `info` lines (the numbers, as the
    XEmbed tray has no tooltip). Lines and check marks are re-read each time it is posted."""
    import tkinter as tk

    menu = tk.Menu(parent, tearoff=False, bg="#262626", fg="#f0f0f0",
                   activebackground="#D97757", activeforeground="#ffffff",
                   # info lines are disabled (not actions) but must stay readable
                   disabledforeground="#d8d8d8",
                   selectcolor="#f0f0f0", relief="flat", borderwidth=1)
    variables: list[tuple[tk.BooleanVar, Callable[[], bool]]] = []
    relabelled: list[tuple[int, MenuEntry]] = []  # index below the info rows, entry
    for entry in entries:
        if entry.separator_before:
            menu.add_separator()
        # The default action is bold, as native tray menus show it.
        style: dict[str, Any] = {"font": ("TkMenuFont", 10, "bold")} if entry.default else {}
        if entry.checked is not None:
            var = tk.BooleanVar(master=menu, value=entry.checked())
            variables.append((var, entry.checked))
            menu.add_checkbutton(label=entry.label, variable=var, onvalue=True, offvalue=False,
                                 command=entry.action, **style)
        else:
            menu.add_command(label=entry.label, command=entry.action, **style)
        end = menu.index("end")
        if entry.text is not None and end is not None:
            relabelled.append((end, entry))
    shown = 0  # info rows at the top now, with their separator

    def sync() -> None:
        nonlocal shown
        if info is not None:
            if shown:
                menu.delete(0, shown - 1)
            lines = list(info())
            for row, line in enumerate(lines):
                menu.insert_command(row, label=line, state="disabled")
            if lines:
                menu.insert_separator(len(lines))
            shown = len(lines) + 1 if lines else 0
            log.debug("tray menu lines: %s", " | ".join(lines))
        for var, checked in variables:
            var.set(checked())
        for row, entry in relabelled:
            label = entry.label_now()
            menu.entryconfigure(shown + row, label=label)
            log.debug("tray menu entry: %s", label)

    sync()
    menu.configure(postcommand=sync)
    return menu
