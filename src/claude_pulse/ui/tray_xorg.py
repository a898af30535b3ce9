"""pystray's xorg backend, fixed: clicks, a menu, docking once, the tray's own background.

pystray (0.19.5) on xorg has no menus and no working left click: the icon window never selects
`ButtonPressMask` (feasibility.md §2, pystray issue #151). The subclass made here adds the mask,
turns a left click into the default action and a right click (on release) into
`on_right_click(x, top, bottom)` — the pointer's x and the icon's vertical extent, where the app
pops up its Tk menu (`ui.tray.build_tk_menu`) — sizes the image to the slot the tray gives
(square, centred, instead of stretched) and blends it onto the tray's own background (the stock
backend pastes onto black). It also sends its loop's commands on a second X connection, as
python-xlib cannot share one between threads.

Imported only when pystray chose xorg (importing Xlib needs a display).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from PIL import Image

__all__ = ["xorg_icon_class"]

log = logging.getLogger(__name__)

# Smaller slots (the 1x1 window before docking) get this, shrunk; a real one is drawn at its
# own size: trayer at 16 px gives 14 px slots, which a 16 px picture shrunk would blur.
_MIN_RENDER = 8
# The largest square asked of a tray (a sanity cap: a tray that never gives what is asked must
# not be asked for ever more).
_MAX_SLOT = 256
_LOOP_ANSWER_TIMEOUT_S = 5.0
_DOCK_FAILED = "Failed to dock icon"


class _QuietDockFailures(logging.Filter):
    """pystray logs an ERROR with a traceback each time it cannot dock — at start and on every
    image update — when no tray host runs. The app says that once, in words (DesktopApp)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != _DOCK_FAILED:
            return True
        log.debug("pystray could not dock the icon: no tray host")
        return False


_QUIET_DOCK_FAILURES = _QuietDockFailures()


def xorg_icon_class(base: type[Any]) -> type[Any]:
    """pystray's xorg Icon (`base`) with the fixes described in the module docstring."""
    import Xlib.display
    import Xlib.protocol.event
    import Xlib.X
    import Xlib.Xutil
    from Xlib.error import XError

    pystray_log = logging.getLogger("pystray._base")
    if _QUIET_DOCK_FAILURES not in pystray_log.filters:
        pystray_log.addFilter(_QUIET_DOCK_FAILURES)

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
            self._message_handlers[Xlib.X.ConfigureNotify] = self._on_configure
            self._square = 0  # the square size last asked of the tray
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

        def tray_host_present(self) -> bool:
            """Whether a tray host (the owner of _NET_SYSTEM_TRAY_Sn) runs now; any thread."""
            with self._poke_lock:
                owner = self._poke.get_selection_owner(self._net_system_tray_sx)
            return getattr(owner, "id", owner) not in (None, Xlib.X.NONE)

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

        def _get_systray_manager(self) -> Any:
            # Stock pystray grabs the X server around this one request (which is atomic
            # anyway). While it waits for the reply, the main thread may be building Tk
            # (the window opened first, issue 19): Tk's start-up blocks on the grabbed server
            # while holding the GIL, and this thread then never reads its reply. No grab.
            owner = self._display.get_selection_owner(self._net_system_tray_sx)
            self._display.flush()
            if owner == Xlib.X.NONE:
                return None
            return self._display.create_resource_object("window", owner.id)

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

        def _on_configure(self, event: Any) -> None:
            # pystray's hints ask for 24x24, and trays that size icons by their hints (trayer,
            # fbpanel) then give a 24 px wide slot in a 46 px tall panel: a small icon. Ask
            # for a square of the slot's long side, once per size; trays that size icons
            # themselves ignore it.
            self._on_expose(event)
            side = min(_MAX_SLOT, max(event.width, event.height))
            if event.width == event.height or side == self._square or side < 16:
                return
            self._square = side
            log.debug("tray slot %dx%d: asking for %dx%d", event.width, event.height, side, side)
            try:
                self._window.set_wm_normal_hints(
                    flags=Xlib.Xutil.PSize | Xlib.Xutil.PMinSize,
                    width=side, height=side, min_width=side, min_height=side)
                self._window.configure(width=side, height=side)
                self._display.flush()
            except XError:
                log.debug("could not ask the tray for a square slot", exc_info=True)

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
