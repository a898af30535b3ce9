"""The Deep Dive window: the rendered card plus a few real Tk widgets.

The header, banner, gauge and pace bar are one Pillow image (`ui.render.card.render_card_layout`)
shown in a `Label`. The banner's button (Log in / Retry) is drawn in that image; the layout says
where, and a click there runs the action. The footer is real Tk widgets: the Limit Alerts toggle,
where the numbers came from and how old they are ("From Claude Code · just now"), the
gear that opens the Preferences and the "Refresh Claude" button (spec §8.4).

Behaviour (issue 5): opens near the tray (X11: under the click, else top right; Windows: bottom
right above the taskbar; macOS: top right under the menu bar), inside the work area (the screen
minus panels and the taskbar, `platform.screen.work_area`) and never over the tray icon it was
opened from; closes on Escape, on its close button and when the app loses the focus.

It always fits (issue 15): the header with the banner and the footer are pinned, the sections in
between scroll (mouse wheel, Up/Down, Page Up/Down, Home/End) when the work area is too short.
The usage charts collapse from the footer; the choice is the `show_charts` setting.

It re-renders only when what it shows changes (the view model is a frozen value; an equal view
is not re-rendered) and, while visible, once a minute for the countdowns. A hidden window costs
nothing: no timer runs.

All methods run on the Tk main thread.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import tkinter as tk
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from PIL import Image, ImageTk

from claude_pulse.config import Config, ConfigSource
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.viewmodel import (
    LOG_OUT_QUESTION,
    Action,
    DeepDiveView,
    LoginOption,
    deep_dive_view,
)
from claude_pulse.platform.screen import work_area
from claude_pulse.ui.theme import (
    ACCENT,
    BG,
    FG,
    FG_DIM,
    WARN,
    button_style,
    display_scale,
    switch_image,
    ui_font,
)
from claude_pulse.ui.tooltip import Tooltip

if TYPE_CHECKING:
    from claude_pulse.ui.render.card import RenderedCard

__all__ = ["TITLE", "DeepDiveWindow", "Placement", "place_window", "usable_area"]

log = logging.getLogger(__name__)

TITLE = "Claude Pulse"
CARD_WIDTH = 360
_MARGIN = 12  # from the work area's edge
# When the desktop does not say where its panels are: a top bar (X11, macOS menu bar) or the
# Windows taskbar, each about this tall at 100 %.
_PANEL_GUESS = 28
_TASKBAR_GUESS = 48
_POINTER_GAP = 24  # between the pointer on the tray icon and the window
# Less room than this beside the tray icon: use the whole work area (covering the icon) instead.
_MIN_ROOM = 240
_WHEEL_UNITS = 3  # scroll lines per wheel notch

REFRESH_LABEL = "Refresh Claude"  # spec §8.4

Box = tuple[int, int, int, int]
# The card image at the display's scale, where its banner button is and how tall its pinned
# header is.
CardRenderer = Callable[[DeepDiveView, float], "RenderedCard"]


def _default_renderer(view: DeepDiveView, scale: float) -> RenderedCard:
    from claude_pulse.ui.render.card import render_card_layout

    return render_card_layout(view, CARD_WIDTH, scale)


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
        on_charts_toggled: Callable[[bool], None] | None = None,
        on_login_cancel: Callable[[], None] | None = None,
        on_quit: Callable[[], None] | None = None,
        on_login_code: Callable[[str], str | None] | None = None,
        settings: ConfigSource = Config,
        render: CardRenderer = _default_renderer,
        logo: Image.Image | None = None,
        platform: str = sys.platform,
        scale: float | None = None,
    ) -> None:
        self._root = root
        self._clock = clock
        self._on_refresh = on_refresh
        self._on_alerts_toggled = on_alerts_toggled
        self._on_action = on_action
        self._on_login_cancel = on_login_cancel
        self._on_quit = on_quit
        self._on_preferences = on_preferences
        self._on_login_code = on_login_code
        self._login_panel: LoginPanel | None = None
        self._switch: tk.Frame | None = None  # "Switch to b@x?" after a login of another account
        self.switch_buttons: tuple[tk.Button, tk.Button] | None = None
        self._log_out: tk.Frame | None = None  # "Log out of Claude Pulse?" while it is asked
        self._log_out_answer: Callable[[bool], None] | None = None
        self.log_out_buttons: tuple[tk.Button, tk.Button] | None = None
        self._welcome: str | None = None  # "Logged in as …", until the window hides
        self._on_visibility = on_visibility
        self._settings = settings
        self._render = render
        # The display's scale (2.0 at 192 dpi): the card is rendered at it, pixel lengths follow.
        self._scale = sc = display_scale(root) if scale is None else scale
        self._width = round(CARD_WIDTH * sc)
        self._platform = platform
        self._status = AppStatus(Phase.LOADING)
        self._view: DeepDiveView | None = None
        self._head_photo: ImageTk.PhotoImage | None = None
        self._body_photo: ImageTk.PhotoImage | None = None
        self._body_height = 0  # the sections' full height (the canvas may show less)
        self._action_box: Box | None = None
        self._anchor: tuple[int, int] | None = None
        self._decor = (0, 0)  # title bar and border, once the window was mapped
        self._on_charts_toggled = on_charts_toggled
        self._note: str | None = None
        self._problem: str | None = None
        self._visible = False
        # No focus-out hiding (no tray host: the window is all there is); DesktopController.
        self.keep_open = False
        self._had_focus = False
        self._tick: str | None = None
        self.renders = 0  # how many times the card was drawn (tests check it stays calm)

        top = self._top = tk.Toplevel(root, bg=BG)
        top.withdraw()
        top.title(TITLE)
        top.resizable(False, False)
        top.protocol("WM_DELETE_WINDOW", self.hide)
        top.bind("<Escape>", lambda _e: self.hide())
        # Keyboard (issue 15 item 7): F5 / Ctrl+R refresh, Ctrl+Q quit, Ctrl+, Preferences.
        for key in ("<F5>", "<Control-r>", "<Control-R>"):
            top.bind(key, lambda _e: self._refresh_clicked())
        for key in ("<Control-q>", "<Control-Q>"):
            top.bind(key, lambda _e: self._on_quit() if self._on_quit else None)
        top.bind("<Control-comma>", lambda _e: self._on_preferences() if self._on_preferences
                 else None)
        _make_tool_window(top, platform)
        # Scrolling the sections: the wheel anywhere over the window, and the keys.
        top.bind("<MouseWheel>", self._wheel)  # Windows, macOS (and Tk 8.7+ on X11)
        top.bind("<Button-4>", lambda _e: self._scroll(-_WHEEL_UNITS, "units"))  # X11, Tk 8.6
        top.bind("<Button-5>", lambda _e: self._scroll(_WHEEL_UNITS, "units"))
        top.bind("<Up>", lambda _e: self._scroll(-1, "units"))
        top.bind("<Down>", lambda _e: self._scroll(1, "units"))
        top.bind("<Prior>", lambda _e: self._scroll(-1, "pages"))
        top.bind("<Next>", lambda _e: self._scroll(1, "pages"))
        top.bind("<Home>", lambda _e: self._scroll_to(0.0))
        top.bind("<End>", lambda _e: self._scroll_to(1.0))
        top.bind("<FocusIn>", self._focus_in)
        top.bind("<FocusOut>", self._focus_out)
        if logo is not None:
            self._icons = [ImageTk.PhotoImage(logo.resize((s, s), Image.Resampling.LANCZOS),
                                              master=top) for s in (64, 32, 16)]
            top.iconphoto(False, *(str(icon) for icon in self._icons))

        # Pinned at the top: the header and the banner (with its button).
        self._card = tk.Label(top, bd=0, bg=BG, highlightthickness=0, padx=0, pady=0)
        self._card.pack(side="top")
        self._card.bind("<Button-1>", self._card_clicked)
        self._card.bind("<Motion>", self._card_hover)
        self._tips: tuple[tuple[Box, str], ...] = ()
        self._header_tips = Tooltip(self._card, lambda x, y: self._tip_at(x, y))
        self._note_label = tk.Label(top, text="", bg=BG, fg=WARN, justify="left",
                                    wraplength=self._width - self._px(24), anchor="w",
                                    padx=self._px(12))
        self._choice: tk.Frame | None = None  # the first-run login choice, built when offered
        self._choice_options: tuple[LoginOption, ...] = ()
        # The sections, in a canvas that scrolls when the window cannot show them all.
        body = self._body = tk.Frame(top, bg=BG, bd=0, highlightthickness=0)
        self._canvas = tk.Canvas(body, bg=BG, bd=0, highlightthickness=0, width=self._width,
                                 height=1, yscrollincrement=self._px(20))
        self._canvas.pack(side="left", fill="both", expand=True)
        self._canvas_image = self._canvas.create_image(0, 0, anchor="nw")
        self._body_tips = Tooltip(self._canvas, lambda x, y: self._tip_at(
            x, round(self._canvas.canvasy(y)) + self._split))
        self._split = 0  # the card's rows above the canvas (header and banner)
        # Drawn over the card's right margin (PAD), so it takes no width from the sections.
        self._scrollbar = tk.Scrollbar(body, orient="vertical", command=self._canvas.yview,
                                       width=self._px(8), bd=0, highlightthickness=0, relief="flat",
                                       elementborderwidth=0, bg="#3a3a3a", troughcolor=BG,
                                       activebackground="#5a5a5a", takefocus=0)
        self._canvas.configure(yscrollcommand=self._scrollbar.set)
        # Two rows, so the footer items fit the 360 px card at any font size:
        #   [switch] Limit Alerts      ⚙  [Refresh Claude]
        #   From Claude Code · 59 min ago       Hide charts
        footer = self._footer = tk.Frame(top, bg=BG, padx=self._px(16), pady=self._px(8))
        footer.pack(side="bottom", fill="x")
        footer.columnconfigure(0, weight=1)
        self._switch_off = ImageTk.PhotoImage(switch_image(on=False, scale=sc), master=top)
        self._switch_on = ImageTk.PhotoImage(switch_image(on=True, scale=sc), master=top)
        # The switch's own state; it follows the setting (`settings_changed`), never the other way.
        self._alerts = tk.BooleanVar(master=top, value=settings().notifications_enabled)
        self._toggle = tk.Checkbutton(
            footer, text=" Limit Alerts", variable=self._alerts, command=self._alerts_clicked,
            image=self._switch_off, selectimage=self._switch_on, compound="left",
            indicatoron=False, bg=BG, fg=FG, activebackground=BG, activeforeground=FG,
            selectcolor=BG, bd=0, relief="flat", offrelief="flat",
            overrelief="flat", cursor="hand2", font=ui_font(10), padx=0, pady=0,
            **self._focus_ring(),
        )
        self._toggle.grid(row=0, column=0, sticky="w")
        self._last_refresh = tk.Label(footer, text="No numbers yet", bg=BG, fg=FG_DIM,
                                      font=ui_font(9), padx=0, pady=0)
        # Under the switch, ⚙ and the button, left (where the numbers came from is wider than the
        # switch and ⚙); "Hide charts" sits at the right of the same row, over the third column.
        self._last_refresh.grid(row=1, column=0, columnspan=3, sticky="w", pady=(self._px(4), 0))
        # "Login renews until 29 Dec" under it, when the server told us (issue #18 item 4).
        self._login = tk.Label(footer, text="", bg=BG, fg=FG_DIM, font=ui_font(9), padx=0,
                               pady=0)
        # "Hide charts" / "Show charts", under the button: only when there is history to chart.
        self._charts_link = tk.Button(
            footer, text="Hide charts", command=self._charts_clicked, bg=BG, fg=FG_DIM,
            activebackground=BG, activeforeground=FG, relief="flat", bd=0,
            cursor="hand2", font=(*ui_font(9), "underline"), padx=0, pady=0,
            **self._focus_ring())
        self._refresh_button = tk.Button(footer, text=REFRESH_LABEL,
                                         command=self._refresh_clicked,
                                         **{**button_style(sc), **self._focus_ring()})
        self._refresh_button.grid(row=0, column=2, sticky="e")
        self._gear: tk.Button | None = None
        if on_preferences is not None:
            # The gear: the Preferences window (also in the tray menu).
            self._gear = tk.Button(
                footer, text="⚙", command=on_preferences, bg=BG, fg=FG_DIM,
                activebackground=BG, activeforeground=FG, relief="flat", bd=0,
                cursor="hand2", font=(ui_font(14)[0], 14), padx=self._px(4),
                pady=0, **self._focus_ring())
            self._gear.grid(row=0, column=1, sticky="e", padx=(0, self._px(8)))
        self._body.pack(side="top", fill="both", expand=True)
        # Tab order is stacking order: the banner's button, the switch, ⚙, Refresh, charts.
        for widget in (self._gear, self._refresh_button, self._charts_link):
            if widget is not None:
                widget.lift()
        for button in (self._toggle, self._refresh_button, self._charts_link, self._gear):
            if button is not None:  # Space activates a Tk button already; Enter too
                _enter_invokes(button)
        # The banner's button is drawn in the card: the card takes the focus when it has one.
        # Its ring is four thin bars placed around that button (placed: the size stays put).
        self._ring = [tk.Frame(self._card, bg=ACCENT, bd=0, highlightthickness=0)
                      for _ in range(4)]
        self._card.configure(takefocus=0)
        self._card.bind("<FocusIn>", lambda _e: self._show_ring(True), add="+")
        self._card.bind("<FocusOut>", lambda _e: self._show_ring(False), add="+")
        for key in ("<Return>", "<KP_Enter>", "<space>"):
            self._card.bind(key, lambda _e: self._banner_key())
        top.configure(width=self._width)

    def _px(self, value: float) -> int:
        return round(value * self._scale)

    # ---- state in ----

    @property
    def visible(self) -> bool:
        return self._visible

    @property
    def scale(self) -> float:
        """The display's scale the window is drawn at (2.0 at 192 dpi)."""
        return self._scale

    @property
    def toplevel(self) -> tk.Toplevel:
        return self._top

    @property
    def view(self) -> DeepDiveView | None:
        """The view last drawn (None before the first draw)."""
        return self._view

    def set_status(self, status: AppStatus) -> None:
        came_from_login = self._status.phase is Phase.LOGGING_IN
        self._status = status
        self._note = None  # a refusal note belongs to the state it answered
        if status.phase is not Phase.LOGGING_IN:
            self._drop_login_panel()
            self._drop_switch()
            if came_from_login and status.phase in (Phase.LOADING, Phase.OK):
                # Which account the browser logged in (issue 16 item 9): say it plainly.
                self._welcome = (f"Logged in as {status.account}." if status.account
                                 else "Logged in.")
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

    def offer_login_choice(self, options: Sequence[LoginOption]) -> None:
        """Show these ways to sign in under the banner, pinned (none: hide them)."""
        options = tuple(options)
        if options == self._choice_options:
            return
        self._choice_options = options
        if self._choice is not None:
            self._choice.destroy()
            self._choice = None
        if options:
            px = self._px
            self._choice = frame = tk.Frame(self._top, bg=BG, padx=px(16), pady=px(2))
            for option in options:
                tk.Button(frame, text=option.label, **button_style(self._scale),
                          command=partial(self._on_action, option.action),
                          ).pack(side="top", anchor="w", pady=(px(6), px(2)))
                tk.Label(frame, text=option.sentence, bg=BG, fg=FG_DIM, font=ui_font(9),
                         justify="left", anchor="w", wraplength=self._width - px(32),
                         ).pack(side="top", fill="x")
            frame.pack(side="top", fill="x", pady=(0, px(8)), after=self._card)
        if self._visible and self._top.winfo_ismapped():
            self._fit()

    @property
    def login_choice_buttons(self) -> list[tk.Button]:
        """The choice's buttons, top to bottom (tests press them)."""
        if self._choice is None:
            return []
        return [w for w in self._choice.winfo_children() if isinstance(w, tk.Button)]

    # ---- showing and hiding ----

    def show(self, anchor: tuple[int, int] | None = None) -> None:
        """Show the window near `anchor` (the tray click, root coordinates) or the tray corner."""
        was_visible = self._visible
        log.debug("showing the window (anchor %s)", anchor)
        self._visible = True
        self._had_focus = False
        self._anchor = anchor
        self._redraw()
        top = self._top
        self._fit()
        top.deiconify()
        top.lift()
        top.update_idletasks()
        if self._decorations() != self._decor:  # the first time it is mapped: now they are known
            self._fit()
        with contextlib.suppress(tk.TclError):
            top.focus_force()
            if self.log_out_buttons is not None:
                self.log_out_buttons[0].focus_set()  # "Log out?" is asked: Enter answers it
        self._arm_tick()
        if not was_visible:
            self._on_visibility(True)

    def show_login(self, url: str | None, browser_started: bool | None) -> None:
        """While the browser login waits: the link with Copy, Paste code and Cancel; said at
        once when the browser could not be started."""
        if self._status.phase is not Phase.LOGGING_IN:
            return
        if self._login_panel is None:
            self._login_panel = LoginPanel(self._top, scale=self._scale, width=self._width,
                                           on_cancel=self._on_login_cancel,
                                           on_code=self._on_login_code)
            self._login_panel.frame.pack(side="top", fill="x", after=self._card)
        self._login_panel.update(url, browser_started)
        if self._visible and self._top.winfo_ismapped():
            self._fit()

    def ask_switch(self, saved: str, new: str, answer: Callable[[bool], None]) -> None:
        """A login of another account arrived: ask before it replaces the saved one."""
        self._drop_switch()
        px = self._px
        frame = self._switch = tk.Frame(self._top, bg=BG, padx=px(16), pady=px(4))
        tk.Label(frame, text=f"The browser logged in {new}, but {saved} is saved here. "
                 f"Switch to {new}?", bg=BG, fg=WARN, font=ui_font(9), justify="left",
                 anchor="w", wraplength=self._width - px(32)).pack(side="top", fill="x")
        row = tk.Frame(frame, bg=BG)
        row.pack(side="top", fill="x", pady=(px(4), 0))

        def reply(yes: bool) -> None:
            self._drop_switch()
            answer(yes)

        style = {**button_style(self._scale), **self._focus_ring()}
        self.switch_buttons = (
            tk.Button(row, text="Switch", command=lambda: reply(True), **style),
            tk.Button(row, text=f"Keep {saved}", command=lambda: reply(False),
                      **{**style, "bg": "#333333", "activebackground": "#444444"}),
        )
        self.switch_buttons[0].pack(side="left")
        self.switch_buttons[1].pack(side="left", padx=(px(8), 0))
        frame.pack(side="top", fill="x", after=self._card)
        if self._visible and self._top.winfo_ismapped():
            self._fit()

    def ask_log_out(self, answer: Callable[[bool], None]) -> None:
        """"Log out of Claude Pulse?" under the header: [Log out] (focused: Enter) or Cancel
        (Escape, or the window closing, answer False too)."""
        self._answer_log_out(False)  # one question at a time
        px = self._px
        frame = self._log_out = tk.Frame(self._top, bg=BG, padx=px(16), pady=px(6))
        title, detail = LOG_OUT_QUESTION
        tk.Label(frame, text=title, bg=BG, fg=FG, font=(*ui_font(11), "bold"), justify="left",
                 anchor="w").pack(side="top", fill="x")
        tk.Label(frame, text=detail, bg=BG, fg=FG_DIM, font=ui_font(9), justify="left",
                 anchor="w", wraplength=self._width - px(32)).pack(side="top", fill="x")
        row = tk.Frame(frame, bg=BG)
        row.pack(side="top", fill="x", pady=(px(6), 0))
        style = {**button_style(self._scale), **self._focus_ring()}
        self._log_out_answer = answer
        self.log_out_buttons = (
            tk.Button(row, text="Log out", command=lambda: self._answer_log_out(True),
                      **style),
            tk.Button(row, text="Cancel", command=lambda: self._answer_log_out(False),
                      **{**style, "bg": "#333333", "activebackground": "#444444"}),
        )
        for button in self.log_out_buttons:
            _enter_invokes(button)
        self.log_out_buttons[0].pack(side="left")
        self.log_out_buttons[1].pack(side="left", padx=(px(8), 0))
        frame.pack(side="top", fill="x", pady=(0, px(6)), after=self._card)
        self.log_out_buttons[0].focus_set()  # Enter logs out (`show` focuses it again)
        # Enter also when the focus is on the window itself (not yet on the button).
        self._top.bind("<Return>", self._log_out_key)
        if self._visible and self._top.winfo_ismapped():
            self._fit()

    def _log_out_key(self, event: tk.Event[tk.Misc]) -> None:
        if event.widget is self._top:  # Enter on another button is that button's
            self._answer_log_out(True)

    def _answer_log_out(self, yes: bool) -> None:
        answer, self._log_out_answer = self._log_out_answer, None
        with contextlib.suppress(tk.TclError):
            self._top.unbind("<Return>")
        if self._log_out is not None:
            with contextlib.suppress(tk.TclError):
                self._log_out.destroy()
            self._log_out = None
            self.log_out_buttons = None
            if self._visible and self._top.winfo_ismapped():
                self._fit()
        if answer is not None:
            answer(yes)

    @property
    def asks_log_out(self) -> bool:
        return self._log_out is not None

    def _drop_switch(self) -> None:
        if self._switch is not None:
            with contextlib.suppress(tk.TclError):
                self._switch.destroy()
            self._switch = None

    @property
    def login_panel(self) -> LoginPanel | None:
        return self._login_panel

    def _drop_login_panel(self) -> None:
        if self._login_panel is not None:
            with contextlib.suppress(tk.TclError):
                self._login_panel.frame.destroy()
            self._login_panel = None

    def hide(self) -> None:
        if not self._visible:
            return
        self._welcome = None
        log.debug("hiding the window")
        self._visible = False
        self._answer_log_out(False)  # closing the window (Escape too) is Cancel
        self._cancel_tick()
        self._top.withdraw()
        self._drop_card()
        self._on_visibility(False)

    def _drop_card(self) -> None:
        # The card's two photo images are the window's biggest allocation (~1 MB at 1x, ~4 MB
        # at 2x, and Tk keeps its own copy): a hidden window keeps none; show() draws again.
        self._card.configure(image="")
        self._canvas.itemconfigure(self._canvas_image, image="")
        self._head_photo = self._body_photo = None
        self._view = None

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
                              hour24=settings.hour24, show_charts=settings.show_charts)
        if view != self._view:
            self._view = view
            card = self._render(view, self._scale)
            self._action_box = card.action_box
            self._card.configure(takefocus=1 if card.action_box is not None else 0)
            self._tips = card.tips
            split = self._split = min(card.header_height, card.image.height)
            image = card.image
            self._head_photo = ImageTk.PhotoImage(image.crop((0, 0, image.width, split)),
                                                  master=self._top)
            self._card.configure(image=self._head_photo)
            body = image.crop((0, split, image.width, image.height))
            self._body_photo = ImageTk.PhotoImage(body, master=self._top)
            self._canvas.itemconfigure(self._canvas_image, image=self._body_photo)
            self._canvas.configure(scrollregion=(0, 0, body.width, body.height))
            self._body_height = body.height
            self.renders += 1
        if self._last_refresh.cget("text") != view.last_refresh_text:
            log.debug("window: %s", view.last_refresh_text)
            self._last_refresh.configure(text=view.last_refresh_text)
        if view.login_text:
            self._login.configure(text=view.login_text)
            self._login.grid(row=2, column=0, columnspan=3, sticky="w", pady=(self._px(2), 0))
        else:
            self._login.grid_remove()
        if view.has_charts and self._on_charts_toggled is not None:
            self._charts_link.configure(text="Hide charts" if view.charts_shown else "Show charts")
            self._charts_link.grid(row=1, column=2, sticky="e", pady=(self._px(4), 0))
        else:
            self._charts_link.grid_remove()
        note = "\n".join(t for t in (self._welcome, self._problem, self._note) if t)
        if note:
            self._note_label.configure(text=note)
            self._note_label.pack(side="top", fill="x", pady=(self._px(4), 0),
                                  before=self._footer)
        else:
            self._note_label.pack_forget()
        if self._visible and self._top.winfo_ismapped():
            self._fit()

    def _fit(self) -> None:
        """Size and place the window: all of it if the work area allows, else the sections
        scroll between the pinned header and footer."""
        top = self._top
        self._canvas.configure(height=self._body_height)
        top.update_idletasks()
        pinned = top.winfo_reqheight() - self._body_height
        # The window manager's title bar and border count too: they are on screen as well.
        above, side = self._decor = self._decorations() if top.winfo_ismapped() else self._decor
        pinned += above + side
        wanted = pinned + self._body_height
        place = place_window(self._width + 2 * side, wanted, self._area(), self._anchor,
                             self._platform, self._scale)
        shown = max(1, place.height - pinned)
        self._canvas.configure(height=shown)
        if shown < self._body_height:
            self._scrollbar.place(relx=1.0, x=-self._px(3), rely=0.0, relheight=1.0, anchor="ne")
        else:
            self._scrollbar.place_forget()
            self._canvas.yview_moveto(0.0)
        top.geometry(f"+{place.x}+{place.y}")
        top.update_idletasks()

    def _decorations(self) -> tuple[int, int]:
        """The title bar's and the border's size the window manager adds (0, 0 without one):
        how far the client area is from the frame Tk places."""
        top = self._top
        try:
            above = top.winfo_rooty() - top.winfo_y()
            side = top.winfo_rootx() - top.winfo_x()
        except tk.TclError:
            return self._decor
        # Sanity: a negative or absurd answer is a window manager's reporting quirk, not a bar.
        return (above if 0 <= above <= 200 else 0), (side if 0 <= side <= 50 else 0)

    def _area(self) -> Box:
        top = self._top
        work = None
        with contextlib.suppress(tk.TclError):
            work = work_area(top.winfo_screen(), self._anchor or top.winfo_pointerxy(),
                             self._platform)
        return usable_area(top.winfo_screenwidth(), top.winfo_screenheight(), work,
                           self._platform, self._scale)

    @property
    def scrolls(self) -> bool:
        """Whether the sections are taller than the room the window has for them."""
        return int(self._canvas.cget("height")) < self._body_height

    def _scroll(self, amount: int, what: Literal["units", "pages"]) -> None:
        if self.scrolls:
            self._canvas.yview_scroll(amount, what)

    def _scroll_to(self, fraction: float) -> None:
        if self.scrolls:
            self._canvas.yview_moveto(fraction)

    def _wheel(self, event: tk.Event[tk.Misc]) -> None:
        # Windows sends multiples of 120 per notch; macOS small deltas. Down is negative.
        delta = event.delta
        steps = delta // 120 if abs(delta) >= 120 else (1 if delta > 0 else -1 if delta else 0)
        self._scroll(-steps * _WHEEL_UNITS, "units")

    def _arm_tick(self) -> None:
        # Once a minute, on the minute, while visible: the countdowns ("Resets in 2h 13m").
        self._cancel_tick()
        wait_s = 60.0 - time.time() % 60.0
        snap = self._status.snapshot
        if snap is not None:
            # "From … · 2 min ago" turns over on the age's own minute.
            ago = (self._clock() - snap.fetched_at).total_seconds()
            if 0 <= ago < 3600:
                wait_s = min(wait_s, 60.0 - ago % 60.0)
        delay_ms = int(wait_s * 1000) + 50
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

    # ---- user input ----

    def _alerts_clicked(self) -> None:
        # Tk has flipped the switch already; the setting decides what it shows afterwards.
        wanted = bool(self._alerts.get())
        self._alerts.set(not wanted)
        self._on_alerts_toggled(wanted)

    def _charts_clicked(self) -> None:
        view = self._view
        if self._on_charts_toggled is not None and view is not None:
            self._on_charts_toggled(not view.charts_shown)

    def _refresh_clicked(self) -> None:
        # The button, F5 and Ctrl+R: the controller's one debounce decides (core.refresh).
        self._on_refresh()

    def show_refresh(self, text: str | None) -> None:
        """Refresh now's words ("Updating…", "Updated just now"); None: "Refresh Claude"."""
        self._refresh_button.configure(text=text or REFRESH_LABEL)

    @property
    def refresh_label(self) -> str:
        return str(self._refresh_button.cget("text"))

    def _focus_ring(self) -> dict[str, Any]:
        """A visible keyboard focus ring (Tab), invisible otherwise."""
        return {"highlightthickness": self._px(2), "highlightcolor": ACCENT,
                "highlightbackground": BG, "takefocus": 1}

    def _on_action_button(self, x: int, y: int) -> bool:
        box = self._action_box
        return box is not None and box[0] <= x < box[2] and box[1] <= y < box[3]

    def _card_clicked(self, event: tk.Event[tk.Misc]) -> None:
        view = self._view
        if view is None or view.banner is None or view.banner.action is None:
            return
        if self._on_action_button(event.x, event.y):
            self._on_action(view.banner.action)

    def _show_ring(self, shown: bool) -> None:
        box = self._action_box
        for bar in self._ring:
            bar.place_forget()
        if not shown or box is None:
            return
        t = max(1, self._px(2))
        x0, y0, x1, y1 = box[0] - 2 * t, box[1] - 2 * t, box[2] + 2 * t, box[3] + 2 * t
        for bar, (x, y, w, h) in zip(self._ring, ((x0, y0, x1 - x0, t), (x0, y1 - t, x1 - x0, t),
                                                   (x0, y0, t, y1 - y0), (x1 - t, y0, t, y1 - y0)),
                                     strict=True):
            bar.place(x=x, y=y, width=w, height=h)

    @property
    def ring_shown(self) -> bool:
        return bool(self._ring[0].winfo_ismapped())

    def _banner_key(self) -> None:
        view = self._view
        if view is not None and view.banner is not None and view.banner.action is not None:
            self._on_action(view.banner.action)

    def _tip_at(self, x: int, y: int) -> str | None:
        """The full text of what the card shortened at (x, y), in card image pixels."""
        for (x0, y0, x1, y1), text in self._tips:
            if x0 <= x < x1 and y0 <= y < y1:
                return text
        return None

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
        if self.keep_open:
            return
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


class LoginPanel:
    """The browser login's fallbacks, pinned under the banner: the authorize link with Copy,
    "Paste code" (a field that asks again after a typo) and Cancel."""

    def __init__(self, master: tk.Misc, *, scale: float, width: int,
                 on_cancel: Callable[[], None] | None,
                 on_code: Callable[[str], str | None] | None) -> None:
        def px(value: float) -> int:
            return round(value * scale)

        self._gap = px(6)
        self._url: str | None = None
        self._on_code = on_code
        frame = self.frame = tk.Frame(master, bg=BG, padx=px(16), pady=px(2))
        self.message = tk.Label(frame, text="Waiting for the browser…", bg=BG, fg=FG_DIM,
                                font=ui_font(9), justify="left", anchor="w",
                                wraplength=width - px(32))
        self.message.pack(side="top", fill="x")
        row = tk.Frame(frame, bg=BG)
        row.pack(side="top", fill="x", pady=(px(4), 0))
        self._link = tk.StringVar(master=frame, value="")
        self.link = tk.Entry(row, textvariable=self._link, state="readonly", bd=0,
                             readonlybackground="#262626", fg=FG, font=ui_font(9),
                             highlightthickness=0, relief="flat")
        small = {**button_style(scale), "font": (ui_font(9)[0], 9, "bold"),
                 "padx": px(8), "pady": px(2)}
        quiet = {**small, "bg": "#333333", "activebackground": "#444444"}
        self.copy = tk.Button(row, text="Copy link", command=self._copy, **small)
        self.copy.pack(side="right", padx=(px(6), 0))
        self.link.pack(side="left", fill="x", expand=True, ipady=px(3))
        buttons = tk.Frame(frame, bg=BG)
        buttons.pack(side="top", fill="x", pady=(px(6), 0))
        self.paste = tk.Button(buttons, text="Paste code", command=self._open_field, **quiet)
        self.cancel = tk.Button(buttons, text="Cancel", command=on_cancel or (lambda: None),
                                **quiet)
        if on_code is not None:
            self.paste.pack(side="left")
        if on_cancel is not None:
            self.cancel.pack(side="right")
        self._field_row = tk.Frame(frame, bg=BG)
        self.field = tk.Entry(self._field_row, bd=0, bg="#262626", fg=FG, insertbackground=FG,
                              font=ui_font(9), highlightthickness=1, highlightcolor=ACCENT,
                              relief="flat")
        self.field.pack(side="left", fill="x", expand=True, ipady=px(3))
        self.use = tk.Button(self._field_row, text="Use code", command=self.submit, **small)
        self.use.pack(side="right", padx=(px(6), 0))
        self.field.bind("<Return>", lambda _e: self.submit())
        self.field.bind("<KP_Enter>", lambda _e: self.submit())
        self.problem = tk.Label(frame, text="", bg=BG, fg=WARN, font=ui_font(9), anchor="w",
                                justify="left", wraplength=width - px(32))

    def update(self, url: str | None, browser_started: bool | None) -> None:
        if url is not None:
            self._url = url
            self._link.set(url)
        if browser_started is False:
            text = ("Your browser could not be started. Copy the link into a browser to log "
                    "in; if that browser is on another computer, paste the code it shows at "
                    "the end here.")
        elif browser_started:
            text = ("Finish in the browser window that opened. If it does not show the login, "
                    "open the link yourself.")
        else:
            text = "Opening your browser…"
        self.message.configure(text=text)

    def _copy(self) -> None:
        if self._url:
            self.frame.clipboard_clear()
            self.frame.clipboard_append(self._url)
            self.copy.configure(text="Copied")

    def _open_field(self) -> None:
        if not self._field_row.winfo_ismapped():
            self._field_row.pack(side="top", fill="x", pady=(self._gap, 0))
        with contextlib.suppress(tk.TclError):
            self.field.focus_set()

    def submit(self) -> None:
        """The pasted code: taken (the login finishes), or a sentence and another try."""
        text = self.field.get().strip()
        if not text or self._on_code is None:
            return
        problem = self._on_code(text)
        if problem is None:
            self.problem.pack_forget()
            self.use.configure(text="Checking…", state="disabled")
            return
        self.problem.configure(text=problem)
        self.problem.pack(side="top", fill="x", pady=(2, 0))
        self.field.selection_range(0, "end")
        with contextlib.suppress(tk.TclError):
            self.field.focus_set()


def _enter_invokes(button: tk.Button | tk.Checkbutton) -> None:
    def invoke(_event: tk.Event[tk.Misc]) -> None:
        button.invoke()

    button.bind("<Return>", invoke)
    button.bind("<KP_Enter>", invoke)


def _make_tool_window(top: tk.Toplevel, platform: str) -> None:
    """A popup that belongs to the tray: no taskbar button, no maximize (issue 15 item 6).
    Windows: a tool window; X11: the EWMH utility type; macOS: the utility style. The window
    manager keeps giving it the focus, so focus-out-to-hide keeps working."""
    with contextlib.suppress(tk.TclError):
        if platform == "win32":
            top.wm_attributes("-toolwindow", True)
        elif platform == "darwin":
            top.tk.call("::tk::unsupported::MacWindowStyle", "style", str(top), "utility",
                        "none")
        else:
            top.wm_attributes("-type", "utility")


@dataclass(frozen=True)
class Placement:
    x: int
    y: int
    height: int  # the window's height: the wanted one, or less when the sections must scroll


def usable_area(screen_w: int, screen_h: int, work: Box | None, platform: str,
                scale: float = 1.0) -> Box:
    """The work area, or the screen minus a guessed panel when the desktop does not say."""
    if work is not None:
        return work
    if platform == "win32":
        return 0, 0, screen_w, screen_h - round(_TASKBAR_GUESS * scale)
    return 0, round(_PANEL_GUESS * scale), screen_w, screen_h


def place_window(width: int, height: int, area: Box, anchor: tuple[int, int] | None,
                 platform: str, scale: float = 1.0) -> Placement:
    """Where the window goes and how tall it may be: inside `area` (the work area) with a
    margin, next to the tray icon at `anchor` and never over it; shorter than `height` when
    there is not room for all of it."""
    left, top, right, bottom = area
    edge, gap = round(_MARGIN * scale), round(_POINTER_GAP * scale)
    margin = edge if bottom - top > 4 * edge else 0
    low, high = top + margin, bottom - margin
    y: int
    if anchor is not None:
        ax, ay = anchor
        below = max(low, ay + gap)  # the top edge when opening downwards
        above = min(high, ay - gap)  # the bottom edge when opening upwards
        room_below, room_above = high - below, above - low
        # A tray in the top half opens downwards, one in the bottom half upwards, unless only
        # the other side has room for the whole window.
        downwards = ay < (top + bottom) // 2
        if height > (room_below if downwards else room_above) and height <= max(room_below,
                                                                                 room_above):
            downwards = not downwards
        room = room_below if downwards else room_above
        if room >= min(height, round(_MIN_ROOM * scale)):
            h = min(height, room)
            y = below if downwards else above - h
            x = ax - width // 2
            return Placement(_clamp_x(x, width, left, right, edge), y, h)
    h = min(height, high - low)
    x = right - width - edge
    y = high - h if platform == "win32" else low
    return Placement(_clamp_x(x, width, left, right, edge), y, h)


def _clamp_x(x: int, width: int, left: int, right: int, edge: int) -> int:
    # A small margin from the area's edges when there is room for it.
    return max(left, min(max(left + edge, x), right - width - edge))
