"""The tray icon: a thin wrapper around pystray, plus the Tk popup menu for the xorg backend.

Threading (design.md §4, feasibility.md §2-3): pystray's `Icon.run()` runs in a plain daemon
thread, never `run_detached` (with Tk it hangs at exit on xorg and never docks on gtk); macOS is
the exception, where AppKit needs the main thread and the icon attaches to Tk's Cocoa loop
(unverified here). Menu callbacks arrive on the tray thread; each one only hands its action to
`post`, which runs it on the Tk main thread. Image, title and check-mark updates are made from the
main thread; pystray forwards them to its own loop (xorg: an X client message, sent on a second X
connection, see `_xorg_icon_class`; gtk: `idle_add`; win32: `Shell_NotifyIcon`).

The menu (design.md §5): Open Deep Dive (default, left click), Refresh now, Limit Alerts ✓,
Start at login ✓, Log out, Quit. It is described once (`MenuEntry`) and built twice:

* Windows, macOS, gtk, appindicator: pystray's own native menu.
* xorg (pystray's default when no GObject is installed): pystray has no menus there and, in
  0.19.5, no working left click either, because the icon window does not select
  `ButtonPressMask` (feasibility.md §2, pystray issue #151). `_xorg_icon_class` adds the mask,
  turns a right click (on release) into `on_context_menu(x, top, bottom)` — the pointer's x
  and the icon's vertical extent; the app pops up a `tk.Menu` built by `build_tk_menu` just
  below (or above) the icon — sizes the image to the slot the tray gives (square,
  centred, instead of stretched) and blends it onto the tray's own background (the stock
  backend pastes onto black).

The backend is chosen by pystray's own rules (`PYSTRAY_BACKEND` honoured); pystray is imported
lazily because importing it with no display raises (feasibility.md §2).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image

if TYPE_CHECKING:
    import tkinter as tk

__all__ = ["MenuEntry", "Tray", "build_tk_menu", "icon_size_for"]

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]
# Renders the icon for the current state at a square pixel size (RGBA).
Renderer = Callable[[int], Image.Image]

# Windows' NOTIFYICONDATA.szTip holds 128 UTF-16 units including the terminator.
_MAX_TOOLTIP = 127
_JOIN_TIMEOUT_S = 3.0
_MIN_RENDER = 16
_LOOP_ANSWER_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class MenuEntry:
    """One menu item. `action` runs on the Tk main thread; `checked` is read from any thread."""

    label: str
    action: Callable[[], None]
    checked: Callable[[], bool] | None = None
    default: bool = False
    separator_before: bool = False


def icon_size_for(backend: str) -> int:
    """The square size to render for a backend that takes one image (xorg asks per slot)."""
    if backend == "darwin":
        return 44  # 22 pt menu bar at 2x
    if backend == "win32":
        return 32  # LoadImage(LR_DEFAULTSIZE) loads SM_CXICON, 32 px at 100 %
    return 32  # gtk/appindicator write a PNG the host scales to its panel


class Tray:
    """One tray icon. Create, `start()`, `update()` and `stop()` on the main thread."""

    def __init__(
        self,
        *,
        post: Post,
        entries: Sequence[MenuEntry],
        on_context_menu: Callable[[int, int, int], None] | None = None,
        on_session_end: Callable[[], None] | None = None,
        name: str = "claude-pulse",
    ) -> None:
        """`on_session_end` runs on the main thread when Windows ends the session (logoff,
        shutdown); the app quits there (ui/tray_win32.py)."""
        self._post = post
        self._entries = tuple(entries)
        self._on_context_menu = on_context_menu
        self._on_session_end = on_session_end
        self._stopping = threading.Event()
        self._name = name
        self._icon: Any = None
        self._thread: threading.Thread | None = None
        self._renderer: Renderer | None = None
        self.backend = ""

    @property
    def has_native_menu(self) -> bool:
        """False on xorg, where the app shows a Tk menu on right click instead."""
        return bool(self._icon is not None and self._icon.HAS_MENU)

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
            icon_class = _xorg_icon_class(pystray.Icon)
        self._renderer = renderer
        menu = pystray.Menu(*self._pystray_items(pystray))
        kwargs: dict[str, Any] = {}
        if self.backend == "xorg":
            kwargs["on_right_click"] = self._context_menu_from_tray
            kwargs["renderer"] = self._render_for_slot
        self._icon = icon_class(
            self._name, renderer(icon_size_for(self.backend)), self._title(title), menu, **kwargs
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
            self._icon.icon = renderer(icon_size_for(self.backend))
            self._icon.title = self._title(title)
        except Exception:
            # A tray host that went away must not take the app down; the window still works.
            log.warning("could not update the tray icon", exc_info=True)

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

    def _title(self, title: str) -> str:
        return _latin1(_clip(title)) if self.backend == "xorg" else _clip(title)

    def _pystray_items(self, pystray: Any) -> list[Any]:
        items: list[Any] = []
        for index, entry in enumerate(self._entries):
            if entry.separator_before:
                items.append(pystray.Menu.SEPARATOR)
            items.append(pystray.MenuItem(
                entry.label,
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

    def _checked(self, index: int) -> Callable[[Any], bool]:
        def checked(_item: Any) -> bool:
            entry = self._entries[index] if index < len(self._entries) else None
            return bool(entry is not None and entry.checked is not None and entry.checked())

        return checked

    def _forget(self) -> None:
        self._entries = ()
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


def build_tk_menu(parent: tk.Misc, entries: Sequence[MenuEntry]) -> tk.Menu:
    """The same menu as a Tk popup (xorg). Check marks are re-read each time it is posted."""
    import tkinter as tk

    menu = tk.Menu(parent, tearoff=False, bg="#262626", fg="#f0f0f0",
                   activebackground="#D97757", activeforeground="#ffffff",
                   selectcolor="#f0f0f0", relief="flat", borderwidth=1)
    variables: list[tuple[tk.BooleanVar, Callable[[], bool]]] = []
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

    def sync() -> None:
        for var, checked in variables:
            var.set(checked())

    menu.configure(postcommand=sync)
    return menu


def _xorg_icon_class(base: type[Any]) -> type[Any]:
    """pystray's xorg Icon with the fixes described in the module docstring."""
    import Xlib.display
    import Xlib.protocol.event
    import Xlib.X
    from Xlib.error import XError

    class PulseXorgIcon(base):  # type: ignore[misc, valid-type]
        _icon_data: Image.Image | None
        def __init__(self, *args: Any, on_right_click: Callable[[int, int, int], None],
                     renderer: Callable[[int], Image.Image], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._on_right_click = on_right_click
            self._renderer = renderer
            self._background_known = False
            self._asked: int | None = None  # the tray we sent our dock request to
            # The left-click fix: stock 0.19.5 never selects ButtonPress (pystray #151).
            self._window.change_attributes(
                event_mask=Xlib.X.ExposureMask | Xlib.X.StructureNotifyMask
                | Xlib.X.ButtonPressMask | Xlib.X.ButtonReleaseMask
            )
            self._message_handlers[Xlib.X.ReparentNotify] = self._on_reparent
            self._message_handlers[Xlib.X.ButtonRelease] = self._on_button_release
            self._display.flush()
            # Stock pystray asks its loop to run _show/_update_icon/... by sending a client
            # message on the loop's own X connection from the calling thread. python-xlib does
            # not cope with two threads on one connection: now and then the loop thread then
            # sleeps in select() with events already read into its queue (clicks and updates
            # seen only much later). Other threads therefore send those messages on a second
            # connection of their own; the loop's connection is used by the loop thread alone.
            self._poke = Xlib.display.Display(self._display.get_display_name())
            self._poke_lock = threading.Lock()
            self._poke_window = self._poke.create_resource_object("window", self._window.id)
            for name in ("_show", "_hide", "_update_icon", "_update_title", "_stop"):
                setattr(self, name, self._dispatcher(name))

        def _dispatcher(self, name: str) -> Callable[[], None]:
            original = getattr(super(), name)  # the implementation, run on the loop thread
            atom = self._display.intern_atom(f"_PYSTRAY_{name.upper()}")

            def dispatch() -> None:
                loop = getattr(self, "_thread", None)
                if loop is not None and threading.current_thread().ident == loop.ident:
                    original()
                    return
                with self._poke_lock:
                    # No event mask: delivered to the window's creator, the loop's connection.
                    self._poke.send_event(self._poke_window, Xlib.protocol.event.ClientMessage(
                        window=self._window.id, client_type=atom,
                        data=(32, (Xlib.X.CurrentTime, 0, 0, 0, 0))),
                        event_mask=Xlib.X.NoEventMask)
                    self._poke.flush()
                try:  # the loop's answer: True or exc_info; never wait forever on a dead loop
                    result = self._queue.get(timeout=_LOOP_ANSWER_TIMEOUT_S)
                except queue.Empty:
                    raise RuntimeError(f"the tray loop did not run {name}") from None
                if result is not True:
                    raise result[1]

            return dispatch

        def __del__(self) -> None:
            # Stock __del__ closes the X connection again; at interpreter exit, or after the
            # server went away, that raises from a finalizer. Nothing is left to clean up then.
            with contextlib.suppress(Exception):
                super().__del__()
            with contextlib.suppress(Exception):
                self._poke.close()

        def _run(self) -> None:
            # Stock `_run` marks the icon ready before setting `_thread`, which the setup thread
            # may read at once (a race seen in feasibility.md §3); set it first.
            self._thread = threading.current_thread()
            self._mark_ready()
            self._mainloop()

        def _assert_docked(self) -> None:
            # Stock pystray sends a new dock request on every image update. trayer answers a
            # repeated request by embedding the icon again, and after a few of those it leaves
            # the icon 1 px wide. Ask each tray once; a new tray (the old one died: pystray
            # clears `_systray_manager`) or a hide/show cycle asks again.
            manager = self._systray_manager
            if manager is not None and manager.id == self._asked:
                return
            super()._assert_docked()
            manager = self._systray_manager
            self._asked = manager.id if manager is not None else None

        def _on_button_press(self, event: Any) -> None:
            log.debug("tray icon: button %d pressed", event.detail)
            if event.detail == 1:
                self()

        def _on_button_release(self, event: Any) -> None:
            # The menu opens on release, as on Windows: opened on press, the release that
            # follows could land on (and run) the item under the pointer, or close the menu.
            log.debug("tray icon: button %d released", event.detail)
            if event.detail == 3:
                top = event.root_y - event.event_y  # the icon's extent, in root coordinates
                height = self._window.get_geometry().height
                self._on_right_click(event.root_x, top, top + height)

        def _on_reparent(self, event: Any) -> None:
            # Docked: show the tray's own background behind the icon's transparent pixels.
            if event.window.id != self._window.id or event.parent.id == \
                    self._display.screen().root.id:
                return
            try:
                if event.parent.get_geometry().depth == self._window.get_geometry().depth:
                    self._window.change_attributes(background_pixmap=Xlib.X.ParentRelative)
            except XError:
                log.debug("tray background not inherited", exc_info=True)
            self._icon_data = None
            self._background_known = False

        def _assert_icon_data(self, width: int, height: int) -> None:
            if self._icon_data is not None and self._background_known and \
                    self._icon_data.size == (width, height):
                return
            background = self._read_background(width, height)
            self._background_known = background is not None
            canvas = background or Image.new("RGB", (width, height), (40, 40, 40))
            side = max(1, min(width, height))
            # Before docking the window is 1x1; never ask the renderer for a useless size.
            image = self._renderer(max(_MIN_RENDER, side)).convert("RGBA")
            if image.size != (side, side):
                image = image.resize((side, side), Image.Resampling.LANCZOS)
            canvas.paste(image, ((width - side) // 2, (height - side) // 2), image)
            canvas.tostring = canvas.tobytes  # type: ignore[attr-defined]  # python-xlib asks
            self._icon_data = canvas

        def _read_background(self, width: int, height: int) -> Image.Image | None:
            try:
                self._window.clear_area(0, 0, width, height)
                raw = self._window.get_image(0, 0, width, height, Xlib.X.ZPixmap, 0xFFFFFFFF)
            except XError:
                return None  # not mapped yet; the Expose after mapping draws again
            if len(raw.data) < width * height * 4:
                return None
            return Image.frombytes("RGB", (width, height), raw.data, "raw", "BGRX")

    PulseXorgIcon.__name__ = "PulseXorgIcon"
    return PulseXorgIcon


def default_backend_name() -> str:
    """pystray's choice here, without importing it (for logs and tests)."""
    import os

    chosen = os.environ.get("PYSTRAY_BACKEND")
    if chosen:
        return chosen
    if sys.platform in ("darwin", "win32"):
        return sys.platform
    return "appindicator, gtk or xorg"
