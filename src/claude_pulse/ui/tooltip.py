"""A hover tooltip for Tk widgets: the full text of something shown shortened.

`text_at(x, y)` says what to show at a point in the widget (None: nothing there). The tip
appears after a short pause over the same text, next to the pointer, and goes on leaving,
clicking or moving off that text. A timer runs only while the pointer rests on such text.
"""

from __future__ import annotations

import contextlib
import tkinter as tk
from collections.abc import Callable

from claude_pulse.ui.theme import FG, ui_font

__all__ = ["Tooltip"]

_DELAY_MS = 450
_TIP_BG = "#333333"


class Tooltip:
    def __init__(self, widget: tk.Misc, text_at: Callable[[int, int], str | None],
                 *, wraplength: int = 320) -> None:
        self._widget = widget
        self._text_at = text_at
        self._wraplength = wraplength
        self._pending: str | None = None
        self._text: str | None = None
        self._tip: tk.Toplevel | None = None
        self._where = (0, 0)
        widget.bind("<Motion>", self._motion, add="+")
        widget.bind("<Leave>", lambda _e: self.hide(), add="+")
        widget.bind("<ButtonPress>", lambda _e: self.hide(), add="+")

    @property
    def shown(self) -> str | None:
        """The text on screen now (None: no tip)."""
        return self._text if self._tip is not None else None

    def _motion(self, event: tk.Event[tk.Misc]) -> None:
        text = self._text_at(event.x, event.y)
        self._where = (event.x_root, event.y_root)
        if text == self._text and (self._tip is not None or self._pending is not None):
            return
        self.hide()
        if text:
            self._text = text
            self._pending = self._widget.after(_DELAY_MS, self._show)

    def _show(self) -> None:
        self._pending = None
        if not self._text:
            return
        tip = self._tip = tk.Toplevel(self._widget, bg=_TIP_BG)
        tip.wm_overrideredirect(True)
        tk.Label(tip, text=self._text, bg=_TIP_BG, fg=FG, font=ui_font(9), justify="left",
                 wraplength=self._wraplength, padx=8, pady=4).pack()
        tip.update_idletasks()
        x, y = self._where
        screen_w = tip.winfo_screenwidth()
        x = max(0, min(x + 12, screen_w - tip.winfo_reqwidth()))
        tip.geometry(f"+{x}+{y + 18}")
        tip.lift()

    def hide(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(tk.TclError):
                self._widget.after_cancel(self._pending)
            self._pending = None
        if self._tip is not None:
            with contextlib.suppress(tk.TclError):
                self._tip.destroy()
            self._tip = None
        self._text = None
