"""The Deep Dive window: the rendered card plus a few real Tk widgets.

The header, banner, gauge and pace bar are one Pillow image (`ui.render.card.render_card_layout`)
shown in a `Label`. The banner's button (Log in / Retry) is drawn in that image; the layout says
where, and a click there runs the action. The footer is real Tk widgets: the Limit Alerts toggle,
"Last refresh HH:MM", the gear that opens the Preferences and the "Refresh Claude" button
(spec §8.4).

Behaviour (issue 5): opens near the tray (X11: under the click, else top right; Windows: bottom
right above the taskbar; macOS: top right under the menu bar), clamped to the screen; closes on
Escape, on its close button and when the app loses the focus. It re-renders only when what it
shows changes (the view model is a frozen value; an equal view is not re-rendered) and, while
visible, once a minute for the countdowns. A hidden window costs nothing: no timer runs.

All methods run on the Tk main thread.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import tkinter as tk
from collections.abc import Callable
from datetime import datetime

from PIL import Image, ImageTk

from claude_pulse.config import Config, ConfigSource
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.viewmodel import Action, DeepDiveView, deep_dive_view
from claude_pulse.ui.theme import BG, FG, FG_DIM, WARN, button_style, switch_image, ui_font

__all__ = ["TITLE", "DeepDiveWindow"]

log = logging.getLogger(__name__)

TITLE = "Claude Pulse"
CARD_WIDTH = 360
_MARGIN = 12  # from the screen edge
_PANEL_GUESS = 40  # a top panel (X11) or menu bar (macOS) we should not cover
_TASKBAR_GUESS = 56  # Windows taskbar height at 100-125 % scaling
_POINTER_GAP = 24  # between the pointer on the tray icon and the window


Box = tuple[int, int, int, int]
# The card image and where its banner button is (None: no button).
CardRenderer = Callable[[DeepDiveView], tuple[Image.Image, Box | None]]


def _default_renderer(view: DeepDiveView) -> tuple[Image.Image, Box | None]:
    from claude_pulse.ui.render.card import render_card_layout

    card = render_card_layout(view, width=CARD_WIDTH)
    return card.image, card.action_box


class DeepDiveWindow:
    def __init__(
        self,
        root: tk.Tk,
        *,
        clock: Callable[[], datetime],
        on_refresh: Callable[[], None],
        on_alerts_toggled: Callable[[bool], None],
        on_action: Callable[[Action], None],
        on_visibility: Callable[[bool], None] = lambda _v: None,
        on_preferences: Callable[[], None] | None = None,
        settings: ConfigSource = Config,
        render: CardRenderer = _default_renderer,
        logo: Image.Image | None = None,
        platform: str = sys.platform,
    ) -> None:
        self._root = root
        self._clock = clock
        self._on_refresh = on_refresh
        self._on_alerts_toggled = on_alerts_toggled
        self._on_action = on_action
        self._on_visibility = on_visibility
        self._settings = settings
        self._render = render
        self._platform = platform
        self._status = AppStatus(Phase.LOADING)
        self._view: DeepDiveView | None = None
        self._photo: ImageTk.PhotoImage | None = None
        self._action_box: Box | None = None
        self._note: str | None = None
        self._problem: str | None = None
        self._visible = False
        self._had_focus = False
        self._tick: str | None = None
        self.renders = 0  # how many times the card was drawn (tests check it stays calm)

        top = self._top = tk.Toplevel(root, bg=BG)
        top.withdraw()
        top.title(TITLE)
        top.resizable(False, False)
        top.protocol("WM_DELETE_WINDOW", self.hide)
        top.bind("<Escape>", lambda _e: self.hide())
        top.bind("<FocusIn>", self._focus_in)
        top.bind("<FocusOut>", self._focus_out)
        if logo is not None:
            self._icons = [ImageTk.PhotoImage(logo.resize((s, s), Image.Resampling.LANCZOS),
                                              master=top) for s in (64, 32, 16)]
            top.iconphoto(False, *(str(icon) for icon in self._icons))

        self._card = tk.Label(top, bd=0, bg=BG, highlightthickness=0, padx=0, pady=0)
        self._card.pack(side="top")
        self._card.bind("<Button-1>", self._card_clicked)
        self._card.bind("<Motion>", self._card_hover)
        self._note_label = tk.Label(top, text="", bg=BG, fg=WARN, justify="left",
                                    wraplength=CARD_WIDTH - 24, anchor="w", padx=12)
        # Two rows, so the three footer items fit the 360 px card at any font size:
        #   [switch] Limit Alerts          [Refresh Claude]
        #   Last refresh 14:05
        footer = self._footer = tk.Frame(top, bg=BG, padx=16, pady=8)
        footer.pack(side="bottom", fill="x")
        footer.columnconfigure(0, weight=1)
        self._switch_off = ImageTk.PhotoImage(switch_image(on=False), master=top)
        self._switch_on = ImageTk.PhotoImage(switch_image(on=True), master=top)
        # The switch's own state; it follows the setting (`settings_changed`), never the other way.
        self._alerts = tk.BooleanVar(master=top, value=settings().notifications_enabled)
        self._toggle = tk.Checkbutton(
            footer, text=" Limit Alerts", variable=self._alerts, command=self._alerts_clicked,
            image=self._switch_off, selectimage=self._switch_on, compound="left",
            indicatoron=False, bg=BG, fg=FG, activebackground=BG, activeforeground=FG,
            selectcolor=BG, bd=0, highlightthickness=0, relief="flat", offrelief="flat",
            overrelief="flat", cursor="hand2", font=ui_font(10), padx=0, pady=0,
        )
        self._toggle.grid(row=0, column=0, sticky="w")
        self._last_refresh = tk.Label(footer, text="Last refresh –", bg=BG, fg=FG_DIM,
                                      font=ui_font(9), padx=0, pady=0)
        self._last_refresh.grid(row=1, column=0, sticky="w", pady=(4, 0))
        self._refresh_button = tk.Button(footer, text="Refresh Claude",
                                         command=self._refresh_clicked, **button_style())
        self._refresh_button.grid(row=0, column=2, rowspan=2, sticky="e")
        self._gear: tk.Button | None = None
        if on_preferences is not None:
            # The gear: the Preferences window (also in the tray menu).
            self._gear = tk.Button(
                footer, text="⚙", command=on_preferences, bg=BG, fg=FG_DIM,
                activebackground=BG, activeforeground=FG, relief="flat", bd=0,
                highlightthickness=0, cursor="hand2", font=(ui_font(14)[0], 14), padx=4, pady=0)
            self._gear.grid(row=0, column=1, rowspan=2, sticky="e", padx=(0, 8))
        top.configure(width=CARD_WIDTH)

    # ---- state in ----

    @property
    def visible(self) -> bool:
        return self._visible

    @property
    def toplevel(self) -> tk.Toplevel:
        return self._top

    @property
    def view(self) -> DeepDiveView | None:
        """The view last drawn (None before the first draw)."""
        return self._view

    def set_status(self, status: AppStatus) -> None:
        self._status = status
        self._note = None  # a refusal note belongs to the state it answered
        if self._visible:
            self._redraw()

    def settings_changed(self) -> None:
        """Show what the settings say now (alerts switch, model limits, clock format)."""
        self._alerts.set(self._settings().notifications_enabled)
        if self._visible:
            self._redraw()

    def set_problem(self, text: str | None) -> None:
        """A standing problem line (e.g. an unreadable config.json) shown above the footer."""
        self._problem = text
        if self._visible:
            self._redraw()

    def show_note(self, text: str) -> None:
        """A one-off line (e.g. why Refresh was refused); cleared by the next status change."""
        self._note = text
        if self._visible:
            self._redraw()

    # ---- showing and hiding ----

    def show(self, anchor: tuple[int, int] | None = None) -> None:
        """Show the window near `anchor` (the tray click, root coordinates) or the tray corner."""
        was_visible = self._visible
        log.debug("showing the window (anchor %s)", anchor)
        self._visible = True
        self._had_focus = False
        self._redraw()
        top = self._top
        top.update_idletasks()
        x, y = self._position(anchor, top.winfo_reqwidth(), top.winfo_reqheight())
        top.geometry(f"+{x}+{y}")
        top.deiconify()
        top.lift()
        with contextlib.suppress(tk.TclError):
            top.focus_force()
        self._arm_tick()
        if not was_visible:
            self._on_visibility(True)

    def hide(self) -> None:
        if not self._visible:
            return
        log.debug("hiding the window")
        self._visible = False
        self._cancel_tick()
        self._top.withdraw()
        self._on_visibility(False)

    def destroy(self) -> None:
        self._cancel_tick()
        with contextlib.suppress(tk.TclError):
            self._top.destroy()

    # ---- drawing ----

    def _redraw(self) -> None:
        settings = self._settings()
        view = deep_dive_view(self._status, self._clock(),
                              alerts_enabled=settings.notifications_enabled,
                              show_model_limits=settings.show_opus_tracking,
                              hour24=settings.hour24)
        if view != self._view:
            self._view = view
            image, self._action_box = self._render(view)
            self._photo = ImageTk.PhotoImage(image, master=self._top)
            self._card.configure(image=self._photo)
            self.renders += 1
        self._last_refresh.configure(text=view.last_refresh_text)
        note = " · ".join(t for t in (self._problem, self._note) if t)
        if note:
            self._note_label.configure(text=note)
            self._note_label.pack(side="top", fill="x", pady=(4, 0), before=self._footer)
        else:
            self._note_label.pack_forget()
        if self._visible and self._top.winfo_ismapped():
            self._keep_on_screen()

    def _keep_on_screen(self) -> None:
        # A banner appearing makes the window taller; never let it run off the screen.
        top = self._top
        top.update_idletasks()
        height, y = top.winfo_reqheight(), top.winfo_rooty()
        bottom = top.winfo_screenheight()
        if y + height > bottom:
            top.geometry(f"+{top.winfo_rootx()}+{max(0, bottom - height)}")

    def _arm_tick(self) -> None:
        # Once a minute, on the minute, while visible: the countdowns ("Resets in 2h 13m").
        self._cancel_tick()
        delay_ms = int((60.0 - time.time() % 60.0) * 1000) + 50
        self._tick = self._top.after(delay_ms, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        if self._visible:
            self._redraw()
            self._arm_tick()

    def _cancel_tick(self) -> None:
        if self._tick is not None:
            with contextlib.suppress(tk.TclError):
                self._top.after_cancel(self._tick)
            self._tick = None

    def _position(self, anchor: tuple[int, int] | None, width: int, height: int) -> tuple[int, int]:
        screen_w = self._top.winfo_screenwidth()
        screen_h = self._top.winfo_screenheight()
        return place_window(width, height, screen_w, screen_h, anchor, self._platform)

    # ---- user input ----

    def _alerts_clicked(self) -> None:
        # Tk has flipped the switch already; the setting decides what it shows afterwards.
        wanted = bool(self._alerts.get())
        self._alerts.set(not wanted)
        self._on_alerts_toggled(wanted)

    def _refresh_clicked(self) -> None:
        self._on_refresh()

    def _on_action_button(self, x: int, y: int) -> bool:
        box = self._action_box
        return box is not None and box[0] <= x < box[2] and box[1] <= y < box[3]

    def _card_clicked(self, event: tk.Event[tk.Misc]) -> None:
        view = self._view
        if view is None or view.banner is None or view.banner.action is None:
            return
        if self._on_action_button(event.x, event.y):
            self._on_action(view.banner.action)

    def _card_hover(self, event: tk.Event[tk.Misc]) -> None:
        cursor = "hand2" if self._on_action_button(event.x, event.y) else ""
        if str(self._card.cget("cursor")) != cursor:
            self._card.configure(cursor=cursor)

    @property
    def action_box(self) -> Box | None:
        """Where the banner's button is, in window coordinates (tests click it)."""
        box = self._action_box
        if box is None:
            return None
        x, y = self._card.winfo_x(), self._card.winfo_y()
        return box[0] + x, box[1] + y, box[2] + x, box[3] + y

    def _focus_in(self, _event: tk.Event[tk.Misc]) -> None:
        self._had_focus = True

    def _focus_out(self, event: tk.Event[tk.Misc]) -> None:
        # Focus moving between our own widgets also sends FocusOut; only leaving the app counts,
        # and only once the window had the focus (no window manager: it may never get it).
        if event.widget is not self._top or not self._had_focus:
            return
        self._top.after_idle(self._hide_if_unfocused)

    def _hide_if_unfocused(self) -> None:
        try:
            focused = self._top.focus_get()
        except (KeyError, tk.TclError):
            focused = None  # focus is in a menu or a window Tk cannot name
        if focused is None and self._visible:
            log.debug("the app lost the focus: hiding the window")
            self.hide()


def place_window(
    width: int, height: int, screen_w: int, screen_h: int,
    anchor: tuple[int, int] | None, platform: str,
) -> tuple[int, int]:
    """Top-left corner for the window: next to the tray, always fully on the screen."""
    if anchor is not None:
        ax, ay = anchor
        x = ax - width // 2
        # A tray in the top half opens downwards, one in the bottom half upwards.
        y = ay + _POINTER_GAP if ay < screen_h // 2 else ay - height - _POINTER_GAP
    elif platform == "win32":
        x, y = screen_w - width - _MARGIN, screen_h - height - _TASKBAR_GUESS
    else:
        x, y = screen_w - width - _MARGIN, _PANEL_GUESS
    # Keep a small margin from the screen's edges when there is room for it.
    x = max(0, min(max(_MARGIN, x), screen_w - width - _MARGIN))
    y = max(0, min(y, screen_h - height))
    return x, y
