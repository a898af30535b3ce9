"""The Preferences window: every setting of config.json that a user changes, with the same rules.

The form is described once (`FIELDS`) and read back with `read_form`, which turns what was typed
into config values through `config.check` — the loader's own validation, so the window accepts
exactly what config.json accepts and says what is allowed in the loader's words. A field whose key
config.py does not know (yet) is left out, so a setting added there later appears here by adding
one line to `FIELDS`.

The window (`PreferencesWindow`) has the Deep Dive's look: the same header, dark card colours and
orange accent. Save (Return) applies every change at once through `on_save`, which answers with an
error to show or None; Cancel, Escape and the close button discard. Everything is reachable from
the keyboard: Tab/Shift-Tab move through the fields in order, Space toggles a switch, the arrow
keys pick a choice, and the focused field is scrolled into view on a small screen.

All methods run on the Tk main thread.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tkinter as tk
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from PIL import ImageTk

from claude_pulse import config as config_mod
from claude_pulse.config import Config, ConfigSource
from claude_pulse.errors import ConfigError
from claude_pulse.ui.theme import (
    ACCENT,
    BG,
    FG,
    FG_DIM,
    button_style,
    display_scale,
    switch_image,
    ui_font,
)

__all__ = ["FIELDS", "Field", "PreferencesWindow", "form_values", "read_form"]

log = logging.getLogger(__name__)

TITLE = "Claude Pulse Preferences"
WIDTH = 480
_FIELD_BG = "#262626"
_EDGE = "#3a3a3a"
_ERROR = "#F85149"

Kind = Literal["switch", "number", "percents", "text", "choice"]


@dataclass(frozen=True)
class Field:
    key: str  # the config.json key
    label: str
    kind: Kind
    section: str
    help: str = ""  # one line under the field; the allowed values are added for typed fields
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for a choice
    empty_means_none: bool = False  # a blank entry saves null (weekly: "same as the session")


FIELDS: tuple[Field, ...] = (
    Field("notifications_enabled", "Limit alerts", "switch", "Alerts",
          "Desktop notifications when a limit gets close"),
    Field("notification_thresholds", "Session alerts at", "percents", "Alerts",
          "Up to 10 percents of the 5-hour limit, 1 to 100, e.g. 80, 90, 95"),
    Field("weekly_notification_thresholds", "Weekly alerts at", "percents", "Alerts",
          "The same, 1 to 100, for the weekly limit; blank: as for the session",
          empty_means_none=True),
    Field("pace_alerts", "Pace alerts", "switch", "Alerts",
          "Once a day when the week's usage runs ahead of its time"),
    Field("time_aware_alerts", "Time-aware alerts", "switch", "Alerts",
          "Below 90 %, alert only when usage is ahead of the time elapsed"),
    Field("poll_interval_seconds", "Check every (seconds)", "number", "Updates",
          f"How often to ask Anthropic for your usage: {config_mod.MIN_POLL_INTERVAL_S} to "
          f"{config_mod.MAX_POLL_INTERVAL_S} seconds"),
    Field("max_requests_per_hour", "Request budget (per hour)", "number", "Updates",
          "Most usage requests an hour, tray and commands together: 1 to "
          f"{config_mod.MAX_REQUESTS_PER_HOUR}"),
    Field("login_source", "Data source", "choice", "Updates",
          "Whose login and numbers to use",
          choices=(("pulse", "Claude Pulse"), ("claude-code", "Claude Code"))),
    Field("show_opus_tracking", "Per-model limits", "switch", "Display",
          "Show the per-model weekly limits and extra usage in the window"),
    Field("show_charts", "Usage charts", "switch", "Display",
          "Show each window's usage chart in the Deep Dive"),
    Field("clock_format", "Clock", "choice", "Display", "How times are shown",
          choices=(("24h", "24-hour (14:05)"), ("12h", "12-hour (2:05 PM)"))),
    Field("start_with_windows", "Start at login", "switch", "Display",
          "Start Claude Pulse when you log in"),
    Field("user_agent", "User-Agent", "text", "Advanced",
          "Sent with usage requests: 1 to 200 printable ASCII characters"),
    Field("usage_url", "Usage URL", "text", "Advanced"),
    Field("profile_url", "Profile URL", "text", "Advanced"),
    Field("token_url", "Token URL", "text", "Advanced"),
    Field("authorize_url", "Login URL", "text", "Advanced",
          "https:// (http:// only for 127.0.0.1, ::1 or localhost)"),
    Field("callback_port", "Login callback port", "number", "Advanced",
          "0 (any free port) or 1024 to 65535"),
    Field("usage_timeout_seconds", "Usage request limit (s)", "number", "Advanced",
          "Total time for one usage or profile request, 1 to 300"),
    Field("token_timeout_seconds", "Login request limit (s)", "number", "Advanced",
          "Total time for one token request (login, refresh), 1 to 300"),
)

FormValue = str | bool


def known_fields(fields: Iterable[Field] = FIELDS) -> tuple[Field, ...]:
    """The fields whose keys config.py knows (a future key's field waits for its key)."""
    out = []
    for field in fields:
        try:
            config_mod.allowed(field.key)
        except KeyError:
            continue
        out.append(field)
    return tuple(out)


def allowed_text(field: Field) -> str:
    """The help line under a field: its own words, else what config.py allows for the key."""
    if field.help or field.kind in ("switch", "choice"):
        return field.help
    return _capital(config_mod.allowed(field.key))


def form_values(config: Config, fields: Iterable[Field]) -> dict[str, FormValue]:
    """What each field shows for `config`."""
    out: dict[str, FormValue] = {}
    for field in fields:
        value = getattr(config, field.key)
        if field.kind == "switch":
            out[field.key] = bool(value)
        elif field.kind == "percents":
            out[field.key] = "" if value is None else ", ".join(str(v) for v in value)
        else:
            out[field.key] = str(value)
    return out


def read_form(values: Mapping[str, FormValue], config: Config,
              fields: Iterable[Field]) -> tuple[dict[str, Any], dict[str, str]]:
    """(changes, errors): the cleaned values that differ from `config`, and for each field that
    does not validate, the message to show under it. Nothing is saved while `errors` is set."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        raw = values[field.key]
        try:
            cleaned = config_mod.check(field.key, _typed(field, raw))
        except (ConfigError, ValueError):
            # Not a number, or not allowed: say what is, in the loader's words.
            errors[field.key] = _capital(config_mod.allowed(field.key))
            continue
        if cleaned != getattr(config, field.key):
            changes[field.key] = list(cleaned) if isinstance(cleaned, tuple) else cleaned
    return changes, errors


def _typed(field: Field, raw: FormValue) -> Any:
    if field.kind == "switch":
        return bool(raw)
    text = str(raw).strip()
    if field.kind == "percents":
        if not text:
            if field.empty_means_none:
                return None
            return []
        return [_number(part) for part in re.split(r"[,;\s]+", text) if part]
    if field.kind == "number":
        return _number(text)
    return text


def _number(text: str) -> float | int:
    text = text.strip().rstrip("%")
    try:
        return int(text)
    except ValueError:
        return float(text)  # "90.0" is as good as 90; "ninety" raises ValueError


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class PreferencesWindow:
    """A Toplevel over `root`. `show()` fills it from the current settings; `on_save(changes)`
    saves them and answers None, or an error to show (the window then stays open)."""

    def __init__(
        self,
        root: tk.Tk,
        *,
        settings: ConfigSource,
        on_save: Callable[[dict[str, Any]], str | None],
        fields: Iterable[Field] = FIELDS,
    ) -> None:
        self._root = root
        self._settings = settings
        self._on_save = on_save
        self.fields = known_fields(fields)
        self._vars: dict[str, tk.Variable] = {}
        self._errors: dict[str, tk.Label] = {}
        self._inputs: dict[str, tk.Widget] = {}
        self._visible = False
        self._advanced_shown = False
        # Tk scales fonts with the display's DPI; pixel sizes here follow the same factor (the
        # Deep Dive's: `display_scale`, which also honours X11's Xft.dpi).
        self._scale = display_scale(root)
        self._width = round(WIDTH * self._scale)

        top = self._top = tk.Toplevel(root, bg=BG)
        top.withdraw()
        top.title(TITLE)
        top.resizable(False, True)
        top.protocol("WM_DELETE_WINDOW", self.cancel)
        top.bind("<Escape>", lambda _e: self.cancel())
        top.bind("<Return>", lambda _e: self.save())
        top.bind("<KP_Enter>", lambda _e: self.save())

        from claude_pulse.ui.render.card import render_header

        # Drawn at the display's scale (crisp), not enlarged.
        header = render_header(self._width, subtitle="PREFERENCES", scale=self._scale)
        self._header_image = ImageTk.PhotoImage(header, master=top)
        self._switch_off = ImageTk.PhotoImage(switch_image(on=False, scale=self._scale),
                                              master=top)
        self._switch_on = ImageTk.PhotoImage(switch_image(on=True, scale=self._scale),
                                             master=top)
        tk.Label(top, image=self._header_image, bd=0, bg=BG).pack(side="top", anchor="w")

        buttons = tk.Frame(top, bg=BG, padx=round(16 * self._scale), pady=round(10 * self._scale))
        buttons.pack(side="bottom", fill="x")
        self._status = tk.Label(buttons, text="", bg=BG, fg=_ERROR, font=ui_font(9),
                                anchor="w", justify="left", wraplength=self._width - 220)
        self._status.pack(side="left", fill="x", expand=True)
        self._save_button = tk.Button(buttons, text="Save", command=self.save,
                                      **button_style(self._scale))
        self._save_button.pack(side="right")
        cancel_style = {**button_style(self._scale), "bg": _FIELD_BG, "activebackground": _EDGE}
        self._cancel_button = tk.Button(buttons, text="Cancel", command=self.cancel,
                                        **cancel_style)
        self._cancel_button.pack(side="right", padx=(0, 8))

        # The form scrolls when the screen is too small for it (large text scaling, 768 px).
        body = tk.Frame(top, bg=BG)
        body.pack(side="top", fill="both", expand=True)
        self._canvas = tk.Canvas(body, bg=BG, highlightthickness=0, bd=0, width=self._width)
        self._scrollbar = tk.Scrollbar(body, orient="vertical", command=self._canvas.yview,
                                       bg=_FIELD_BG, activebackground=_EDGE, troughcolor=BG,
                                       highlightthickness=0, bd=0, width=10)
        self._canvas.configure(yscrollcommand=self._scrollbar.set)
        self._canvas.pack(side="left", fill="both", expand=True)
        form = self._form = tk.Frame(self._canvas, bg=BG, padx=round(16 * self._scale))
        # As wide as the window, so the inputs line up at its right edge.
        self._canvas.create_window((0, 0), window=form, anchor="nw", width=self._width)
        form.bind("<Configure>", lambda _e: self._fit())
        for sequence in ("<MouseWheel>", "<Button-4>", "<Button-5>"):
            top.bind_all(sequence, self._wheel, add="+")
        self._build_form(form)

    # ---- the form ----

    def _build_form(self, form: tk.Frame) -> None:
        form.columnconfigure(0, weight=1)
        row = 0
        section = None
        self._advanced_rows: list[tk.Widget] = []
        for field in self.fields:
            if field.section != section:
                section = field.section
                row = self._section(form, row, section)
            widgets = self._field(form, row, field)
            if section == "Advanced":
                self._advanced_rows.extend(widgets)
            row += 2
        for widget in self._advanced_rows:
            widget.grid_remove()

    def _section(self, form: tk.Frame, row: int, name: str) -> int:
        if name == "Advanced":
            self._advanced_toggle = tk.Button(
                form, text="▸ Advanced", command=self.toggle_advanced, bg=BG, fg=FG_DIM,
                activebackground=BG, activeforeground=FG, relief="flat", bd=0,
                highlightthickness=1, highlightbackground=BG, highlightcolor=ACCENT,
                font=(ui_font(9)[0], 9, "bold"), cursor="hand2", anchor="w", padx=0)
            self._advanced_toggle.grid(row=row, column=0, columnspan=2, sticky="w",
                                       pady=(10, 2))
        else:
            tk.Label(form, text=name.upper(), bg=BG, fg=FG_DIM, anchor="w",
                     font=(ui_font(9)[0], 9, "bold")).grid(row=row, column=0, columnspan=2,
                                                         sticky="w", pady=(10, 2))
        return row + 1

    def _field(self, form: tk.Frame, row: int, field: Field) -> list[tk.Widget]:
        label = tk.Label(form, text=field.label, bg=BG, fg=FG, anchor="w", font=ui_font(10))
        label.grid(row=row, column=0, sticky="w", pady=(4, 0))
        widget: tk.Widget
        if field.kind == "switch":
            var: tk.Variable = tk.BooleanVar(master=form)
            # The Deep Dive's pill switch; the ring shows keyboard focus.
            widget = tk.Checkbutton(
                form, variable=var, image=self._switch_off, selectimage=self._switch_on,
                indicatoron=False, bg=BG, activebackground=BG, selectcolor=BG, bd=0,
                relief="flat", offrelief="flat", overrelief="flat", highlightthickness=1,
                highlightbackground=BG, highlightcolor=ACCENT, cursor="hand2")
            widget.grid(row=row, column=1, sticky="e", pady=(4, 0))
        elif field.kind == "choice":
            var = tk.StringVar(master=form)
            widget = tk.Frame(form, bg=BG)
            for value, text in field.choices:
                # A segmented control: the chosen option is filled with the accent.
                button = tk.Radiobutton(
                    widget, text=text, value=value, variable=var, indicatoron=False,
                    bg=_FIELD_BG, fg=FG, activebackground=_EDGE, activeforeground=FG,
                    selectcolor=ACCENT, relief="flat", offrelief="flat", overrelief="flat",
                    bd=0, highlightthickness=1, highlightbackground=BG, highlightcolor=FG,
                    font=ui_font(9), cursor="hand2", padx=8, pady=2)
                button.pack(side="left", padx=(1, 0))
                self._follow_focus(button, widget)
            widget.grid(row=row, column=1, sticky="e", pady=(4, 0))
        else:
            var = tk.StringVar(master=form)
            wide = field.kind == "text"
            widget = tk.Entry(
                form, textvariable=var, width=34 if wide else 14, bg=_FIELD_BG, fg=FG,
                insertbackground=FG, relief="flat", highlightthickness=1,
                highlightbackground=_EDGE, highlightcolor=ACCENT, font=ui_font(10))
            widget.grid(row=row, column=1, sticky="e", pady=(4, 0), ipady=2)
        if field.kind != "choice":
            self._follow_focus(widget, widget)
        helptext = allowed_text(field)
        help_label = tk.Label(form, text=helptext, bg=BG, fg=FG_DIM, anchor="w", justify="left",
                              font=ui_font(8), wraplength=self._width - round(40 * self._scale))
        help_label.grid(row=row + 1, column=0, columnspan=2, sticky="w")
        self._vars[field.key] = var
        self._inputs[field.key] = widget
        self._errors[field.key] = help_label
        return [label, widget, help_label]

    def _follow_focus(self, focusable: tk.Widget, row_widget: tk.Widget) -> None:
        def scroll(_event: tk.Event[Any]) -> None:
            self._scroll_to(row_widget)

        def save(_event: tk.Event[Any]) -> str:
            self.save()
            return "break"  # Tk's own Return binding would toggle a switch as well

        focusable.bind("<FocusIn>", scroll, add="+")
        if isinstance(focusable, (tk.Checkbutton, tk.Radiobutton)):
            focusable.bind("<Return>", save)
            focusable.bind("<KP_Enter>", save)

    # ---- showing ----

    @property
    def visible(self) -> bool:
        return self._visible

    @property
    def toplevel(self) -> tk.Toplevel:
        return self._top

    def show(self) -> None:
        """Fill the form from the current settings and bring the window up."""
        if not self._visible:
            self._fill(form_values(self._settings(), self.fields))
        self._visible = True
        top = self._top
        top.update_idletasks()
        self._fit()
        screen_w, screen_h = top.winfo_screenwidth(), top.winfo_screenheight()
        width, height = top.winfo_reqwidth(), top.winfo_reqheight()
        top.geometry(f"+{max(0, (screen_w - width) // 2)}+{max(0, (screen_h - height) // 3)}")
        top.deiconify()
        top.lift()
        with contextlib.suppress(tk.TclError):
            top.focus_force()
        first = next(iter(self._inputs.values()), None)
        if first is not None:
            first.focus_set()

    def hide(self) -> None:
        self._visible = False
        self._top.withdraw()

    def destroy(self) -> None:
        with contextlib.suppress(tk.TclError):
            self._top.unbind_all("<MouseWheel>")
            self._top.destroy()

    def toggle_advanced(self) -> None:
        self._advanced_shown = not self._advanced_shown
        for widget in self._advanced_rows:
            if self._advanced_shown:
                widget.grid()
            else:
                widget.grid_remove()
        self._advanced_toggle.configure(
            text=("▾ Advanced" if self._advanced_shown else "▸ Advanced"))
        self._top.update_idletasks()
        self._fit()

    # ---- the form's values ----

    def values(self) -> dict[str, FormValue]:
        """What the form says now (switches as bools, the rest as typed)."""
        out: dict[str, FormValue] = {}
        for key, var in self._vars.items():
            if isinstance(var, (tk.BooleanVar, tk.StringVar)):
                out[key] = var.get()
        return out

    def set_value(self, key: str, value: FormValue) -> None:
        self._vars[key].set(value)

    def errors(self) -> dict[str, str]:
        """The error shown under each field that has one."""
        return {key: str(label.cget("text")) for key, label in self._errors.items()
                if str(label.cget("fg")).lower() == _ERROR.lower()}

    def save(self) -> bool:
        """Validate everything; save and close when it all passes. True when closed."""
        if not self._visible:
            return False
        changes, errors = read_form(self.values(), self._settings(), self.fields)
        self._show_errors(errors)
        if errors:
            self._status.configure(text="Fix the fields in red (Escape discards)")
            first = next(k for k in self._inputs if k in errors)
            if first in {f.key for f in self.fields if f.section == "Advanced"} and \
                    not self._advanced_shown:
                self.toggle_advanced()
            self._inputs[first].focus_set()
            return False
        problem = self._on_save(changes) if changes else None
        if problem:
            self._status.configure(text=problem)
            return False
        self._status.configure(text="")
        self.hide()
        return True

    def cancel(self) -> None:
        """Discard what was typed; the next show() starts from the settings again."""
        self._show_errors({})
        self._status.configure(text="")
        self.hide()

    def _fill(self, values: Mapping[str, FormValue]) -> None:
        for key, value in values.items():
            self._vars[key].set(value)
        self._show_errors({})

    def _show_errors(self, errors: Mapping[str, str]) -> None:
        for field in self.fields:
            label = self._errors[field.key]
            error = errors.get(field.key)
            label.configure(text=error or allowed_text(field), fg=_ERROR if error else FG_DIM)

    # ---- scrolling ----

    def _fit(self) -> None:
        """Size the canvas to the form, or to the screen with a scroll bar when it is taller."""
        form, canvas = self._form, self._canvas
        needed = form.winfo_reqheight()
        room = self._top.winfo_screenheight() - 64 - 56 - 48  # header, buttons, a panel
        height = max(120, min(needed, room))
        canvas.configure(height=height, scrollregion=(0, 0, self._width, needed))
        if needed > height:
            self._scrollbar.pack(side="right", fill="y")
        else:
            self._scrollbar.pack_forget()
            canvas.yview_moveto(0)

    def _scroll_to(self, widget: tk.Widget) -> None:
        needed = self._form.winfo_reqheight()
        shown = self._canvas.winfo_height()
        if needed <= shown or needed <= 0:
            return
        y = widget.winfo_y()
        top, bottom = (f * needed for f in self._canvas.yview())
        if y < top:
            self._canvas.yview_moveto(max(0.0, (y - 24) / needed))
        elif y + widget.winfo_height() > bottom:
            self._canvas.yview_moveto(min(1.0, (y + widget.winfo_height() + 40 - shown) / needed))

    def _wheel(self, event: tk.Event[tk.Misc]) -> None:
        if not self._visible or str(event.widget).split(".")[1:2] != str(self._top).split(
                ".")[1:2]:
            return
        step = -1 if getattr(event, "num", 0) == 4 or getattr(event, "delta", 0) > 0 else 1
        self._canvas.yview_scroll(step, "units")

