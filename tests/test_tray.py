"""The pystray wrapper docked in a real tray host (trayer on Xvfb), driven with real clicks.

Checks the xorg fixes: left click reaches the default entry (pystray 0.19.5 never selects
ButtonPress), right click asks for the Tk menu at the pointer, the image is square and centred in
the tray's slot on the tray's own background (stock: stretched, on black), repeated updates keep
the icon docked at full size, titles with non-Latin-1 characters do not crash, and `stop()` ends
the thread and undocks. Callbacks arrive on the tray thread and only go through `post`.
"""

from __future__ import annotations

import threading
import time
import tkinter as tk
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from claude_pulse.ui.tray import MenuEntry, Tray, build_tk_menu, has_tooltip, icon_size_for
from support.fixtures_display import DockedIcon, click, docked_icons, icon_pixels
from support.helpers import wait_until

ORANGE = (217, 119, 87)
BLUE = (74, 158, 255)


def disc(colour: tuple[int, int, int]) -> Callable[[int], Image.Image]:
    """A renderer: a filled disc on a transparent square (corners show the tray behind)."""
    def render(size: int) -> Image.Image:
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        ImageDraw.Draw(image).ellipse((0, 0, size - 1, size - 1), fill=(*colour, 255))
        return image

    return render


class Recorder:
    """A `post` that records what the tray hands over, and from which thread."""

    def __init__(self) -> None:
        self.posted: list[Callable[[], None]] = []
        self.threads: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, fn: Callable[[], None]) -> None:
        with self.lock:
            self.posted.append(fn)
            self.threads.append(threading.current_thread().name)

    def run_all(self) -> None:
        with self.lock:
            jobs, self.posted = self.posted, []
        for job in jobs:
            job()




@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def actions() -> list[str]:
    return []


@pytest.fixture
def tray(tray_display: str, monkeypatch: pytest.MonkeyPatch, recorder: Recorder,
         actions: list[str]) -> Iterator[Tray]:
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    entries = [
        MenuEntry("Open Deep Dive", lambda: actions.append("open"), default=True),
        MenuEntry("Refresh now", lambda: actions.append("refresh")),
        MenuEntry("Limit Alerts", lambda: actions.append("alerts"), checked=lambda: True,
                  separator_before=True),
        MenuEntry("Quit", lambda: actions.append("quit"), separator_before=True),
    ]
    t = Tray(post=recorder, entries=entries,
             on_context_menu=lambda x, top, bottom: actions.append(f"menu {x} {top} {bottom}"))
    try:
        yield t
    finally:
        t.stop()


def dock(tray: Tray, display: str, renderer: Callable[[int], Image.Image], title: str
         ) -> DockedIcon:
    before = {i.window for i in docked_icons(display)}
    tray.start(renderer, title)
    found: list[DockedIcon] = []

    def docked() -> bool:
        found[:] = [i for i in docked_icons(display) if i.window not in before and i.width > 4]
        return bool(found)

    wait_until(docked, 15, "the icon to dock")
    time.sleep(0.3)  # the first Expose draws it
    return found[0]


def near(pixel: Any, colour: tuple[int, int, int], tolerance: int = 30) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


@pytest.mark.gui
@pytest.mark.tray
def test_the_icon_is_square_centred_on_the_trays_background(
    tray: Tray, tray_display: str, tmp_path: Path
) -> None:
    icon = dock(tray, tray_display, disc(ORANGE), "Claude Pulse")
    assert tray.backend == "xorg"  # no native menu there: the app pops up its Tk menu
    pixels = icon_pixels(tray_display, icon, tmp_path / "icon.png")
    w, h = pixels.size
    side = min(w, h)
    top = (h - side) // 2
    panel = pixels.getpixel((0, 0))  # a transparent corner: must be the tray, not black
    assert panel != (0, 0, 0)
    assert near(pixels.getpixel((w // 2, h // 2)), ORANGE)
    # Centred and round: the disc's top and bottom touch the square, not the slot's ends.
    column = [pixels.getpixel((w // 2, y)) for y in range(h)]
    orange_rows = [y for y, p in enumerate(column) if near(p, ORANGE, 60)]
    assert abs(orange_rows[0] - top) <= 1 and abs(orange_rows[-1] - (top + side - 1)) <= 1
    row = [pixels.getpixel((x, h // 2)) for x in range(w)]
    orange_cols = [x for x, p in enumerate(row) if near(p, ORANGE, 60)]
    assert abs((orange_cols[-1] - orange_cols[0]) - (orange_rows[-1] - orange_rows[0])) <= 1


@pytest.mark.gui
@pytest.mark.tray
def test_docking_never_grabs_the_x_server(
    tray_display: str, monkeypatch: pytest.MonkeyPatch, recorder: Recorder,
) -> None:
    # A grab while the tray thread waits for a reply deadlocks a main thread that builds Tk
    # then (Tk's start-up holds the GIL and blocks on the grabbed server): the app builds Tk
    # lazily, at any moment (issue 19).
    from Xlib.protocol import display as xprotocol

    grabs: list[int] = []
    original = xprotocol.Display.send_request

    def send_request(self: Any, request: Any, wait_for_response: Any) -> Any:
        if type(request).__name__ == "GrabServer":
            grabs.append(1)
        return original(self, request, wait_for_response)

    monkeypatch.setattr(xprotocol.Display, "send_request", send_request)
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    tray = Tray(post=recorder, entries=[MenuEntry("Quit", lambda: None)])
    try:
        dock(tray, tray_display, disc(ORANGE), "Claude Pulse")
        tray.update(disc(BLUE), "again")
        time.sleep(0.3)
    finally:
        tray.stop()
    assert grabs == []


@pytest.mark.gui
@pytest.mark.tray
def test_updates_change_the_pixels_and_keep_the_icon_docked_full_size(
    tray: Tray, tray_display: str, tmp_path: Path
) -> None:
    icon = dock(tray, tray_display, disc(ORANGE), "Claude Pulse")
    for n in range(8):  # trayer used to shrink the icon to 1 px after a few re-dock requests
        tray.update(disc(BLUE if n % 2 == 0 else ORANGE), f"Claude Pulse\nSession {n}%")
        time.sleep(0.1)
    tray.update(disc(BLUE), "Claude Pulse\nSession 42% · resets in 1h…")  # not Latin-1
    wait_until(lambda: near(icon_pixels(tray_display, icon, tmp_path / "i.png")
                            .getpixel((icon.width // 2, icon.height // 2)), BLUE), 5,
               "the blue image")
    now = [i for i in docked_icons(tray_display) if i.window == icon.window]
    assert now and (now[0].width, now[0].height) == (icon.width, icon.height)


@pytest.mark.gui
@pytest.mark.tray
def test_left_click_posts_the_default_entry_and_right_click_asks_for_the_menu(
    tray: Tray, tray_display: str, recorder: Recorder, actions: list[str]
) -> None:
    icon = dock(tray, tray_display, disc(ORANGE), "Claude Pulse")
    click(tray_display, *icon.centre)
    wait_until(lambda: bool(recorder.posted), 5, "the left click")
    assert actions == []  # nothing ran on the tray thread
    recorder.run_all()
    assert actions == ["open"]
    click(tray_display, *icon.centre, button=3)
    wait_until(lambda: bool(recorder.posted), 5, "the right click")
    recorder.run_all()
    x, _ = icon.centre
    assert actions[1] == f"menu {x} {icon.y} {icon.y + icon.height}"
    assert set(recorder.threads) == {"pulse-tray"}


@pytest.mark.gui
@pytest.mark.tray
def test_with_on_activate_a_left_click_runs_it_and_not_the_default_entry(
    tray_display: str, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    ran: list[str] = []
    tray = Tray(post=recorder, entries=[
        MenuEntry("Open Deep Dive", lambda: ran.append("open"), default=True),
        MenuEntry("Quit", lambda: ran.append("quit"))], on_activate=lambda: ran.append("toggle"))
    try:
        icon = dock(tray, tray_display, disc(ORANGE), "Claude Pulse")
        click(tray_display, *icon.centre)
        wait_until(lambda: bool(recorder.posted), 5, "the left click")
        recorder.run_all()
        assert ran == ["toggle"]
        shown = [str(item.text) for item in tray._icon.menu.items if item.visible]
        assert shown == ["Open Deep Dive", "Quit"]  # the toggle is not a menu row
        assert set(recorder.threads) == {"pulse-tray"}
    finally:
        tray.stop()


@pytest.mark.gui
@pytest.mark.tray
def test_the_pystray_menu_mirrors_the_entries(
    tray: Tray, tray_display: str, recorder: Recorder, actions: list[str]
) -> None:
    dock(tray, tray_display, disc(ORANGE), "Claude Pulse")
    items = list(tray._icon.menu.items)
    labels = [str(item.text) for item in items]
    assert labels == ["Open Deep Dive", "Refresh now", "- - - -", "Limit Alerts", "- - - -",
                      "Quit"]
    assert items[0].default and not items[1].default
    assert items[3].checked is True and items[1].checked is None
    items[1](tray._icon)  # what a native menu does on a click
    recorder.run_all()
    assert actions == ["refresh"]


@pytest.mark.gui
@pytest.mark.tray
def test_stop_ends_the_thread_and_leaves_the_tray(tray: Tray, tray_display: str) -> None:
    icon = dock(tray, tray_display, disc(ORANGE), "Claude Pulse")
    assert tray.running
    started = time.monotonic()
    tray.stop()
    assert time.monotonic() - started < 3
    assert not tray.running
    wait_until(lambda: all(i.window != icon.window for i in docked_icons(tray_display)), 5,
               "the icon to leave the tray")
    tray.stop()  # twice is harmless


@pytest.mark.gui
def test_the_tk_menu_has_the_entries_and_fresh_check_marks(display: str) -> None:
    root = tk.Tk()
    root.withdraw()
    state = {"alerts": True}
    ran: list[str] = []
    try:
        menu = build_tk_menu(root, [
            MenuEntry("Open Deep Dive", lambda: ran.append("open"), default=True),
            MenuEntry("Limit Alerts", lambda: ran.append("alerts"),
                      checked=lambda: state["alerts"], separator_before=True),
            MenuEntry("Quit", lambda: ran.append("quit")),
        ])
        kinds = [menu.type(i) for i in range(menu.index("end") + 1)]
        assert kinds == ["command", "separator", "checkbutton", "command"]
        assert menu.entrycget(0, "label") == "Open Deep Dive"
        assert "bold" in str(menu.entrycget(0, "font"))
        state["alerts"] = False
        root.tk.eval(str(menu.cget("postcommand")))  # what posting the menu runs
        variable = menu.entrycget(2, "variable")
        assert root.getvar(str(variable)) in (0, False, "0")
        menu.invoke(3)
        menu.invoke(0)
        assert ran == ["quit", "open"]
    finally:
        root.destroy()


@pytest.mark.gui
def test_an_entrys_label_is_read_again_at_each_post(display: str) -> None:
    """"Refresh now" says "Updated just now" for 30 s after a refresh (in both menus)."""
    root = tk.Tk()
    root.withdraw()
    label = ["Refresh now"]
    entry = MenuEntry("Refresh now", lambda: None, text=lambda: label[0])
    try:
        menu = build_tk_menu(root, [MenuEntry("Open Deep Dive", lambda: None), entry],
                             info=lambda: ["Session 42% · resets 14:05"])
        label[0] = "Updated just now"
        root.tk.eval(str(menu.cget("postcommand")))
        assert [menu.entrycget(i, "label") for i in (0, 2, 3)] == \
            ["Session 42% · resets 14:05", "Open Deep Dive", "Updated just now"]
        assert entry.label_now() == "Updated just now"
        assert MenuEntry("Quit", lambda: None).label_now() == "Quit"
    finally:
        root.destroy()


@pytest.mark.gui
def test_the_tk_menu_opens_with_the_numbers_read_at_each_post(display: str) -> None:
    """XEmbed trays have no tooltip: the menu's first lines carry the numbers, always fresh."""
    root = tk.Tk()
    root.withdraw()
    lines = ["Session 42% · resets 14:05", "Week 68% · on track"]
    ran: list[str] = []
    try:
        menu = build_tk_menu(root, [
            MenuEntry("Open Deep Dive", lambda: ran.append("open"), default=True),
            MenuEntry("Quit", lambda: ran.append("quit"), separator_before=True),
        ], info=lambda: list(lines))

        def rows() -> list[tuple[str, str, str]]:
            return [(str(menu.type(i)),
                     str(menu.entrycget(i, "label")) if menu.type(i) != "separator" else "",
                     str(menu.entrycget(i, "state")) if menu.type(i) != "separator" else "")
                    for i in range(int(menu.index("end")) + 1)]

        assert rows() == [("command", "Session 42% · resets 14:05", "disabled"),
                          ("command", "Week 68% · on track", "disabled"),
                          ("separator", "", ""),
                          ("command", "Open Deep Dive", "normal"),
                          ("separator", "", ""),
                          ("command", "Quit", "normal")]
        lines[:] = ["Session 104% · resets 14:05", "Week 99% · over budget",
                    "You're offline · numbers from 12 min ago"]
        root.tk.eval(str(menu.cget("postcommand")))  # what posting the menu runs
        assert [r[1] for r in rows()[:4]] == [*lines, ""]
        assert rows()[4][1] == "Open Deep Dive"
        lines[:] = []
        root.tk.eval(str(menu.cget("postcommand")))
        assert rows()[0][1] == "Open Deep Dive"  # nothing to say: no empty rows
        # Readable, not the faint grey of a disabled action.
        assert str(menu.cget("disabledforeground")).lower() == "#d8d8d8"
    finally:
        root.destroy()


@pytest.mark.gui
@pytest.mark.tray
def test_a_native_menu_without_tooltips_opens_with_the_numbers(
    tray_display: str, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    lines = ["Session 42% · resets 14:05", "Week 68% · on track"]
    tray = Tray(post=recorder, entries=[MenuEntry("Quit", lambda: None)],
                info=lambda: list(lines))
    try:
        dock(tray, tray_display, disc(ORANGE), "Claude Pulse")
        assert not has_tooltip(tray.backend)
        items = list(tray._icon.menu.items)
        shown = [str(item.text) for item in items if item.visible]
        assert shown == [*lines, "- - - -", "Quit"]
        assert not any(item.enabled for item in items[:2])
        lines.append("You're offline · numbers from 12 min ago")
        assert [str(item.text) for item in items if item.visible][:3] == lines
    finally:
        tray.stop()


def test_which_trays_have_tooltips() -> None:
    assert [b for b in ("win32", "darwin", "gtk", "appindicator", "xorg") if has_tooltip(b)] \
        == ["win32", "darwin", "gtk"]


@pytest.mark.parametrize(("backend", "scale", "size"), [
    pytest.param("win32", 1.0, 32, id="windows"), pytest.param("darwin", 2.0, 44, id="macos"),
    # One PNG the host shrinks to its icon (GTK never enlarges it): twice a 32 px icon at the
    # display's scale, so a tall or HiDPI panel stays crisp.
    pytest.param("gtk", 1.0, 64, id="gtk"), pytest.param("appindicator", 1.0, 64, id="ai-1x"),
    pytest.param("appindicator", 1.25, 96, id="ai-1.25x"),
    pytest.param("appindicator", 1.5, 96, id="ai-1.5x"),
    pytest.param("gtk", 2.0, 128, id="gtk-2x"), pytest.param("appindicator", 2.0, 128, id="ai-2x"),
    pytest.param("appindicator", 6.0, 256, id="capped"),
])
def test_icon_size_for_each_backend(backend: str, scale: float, size: int) -> None:
    assert icon_size_for(backend, scale) == size
