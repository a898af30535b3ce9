"""The look the app's Tk windows share: the Deep Dive's dark card colours, fonts and button, and
the display's scale they are drawn at.

Tk sizes fonts in points, so text follows the display's DPI by itself; pixel lengths (padding,
the switch, the rendered card) are multiplied by `display_scale`.
"""

from __future__ import annotations

import contextlib
import math
import sys
import tkinter as tk
from typing import Any

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import BACKGROUND, ORANGE, TEXT, TEXT_DIM

__all__ = [
    "ACCENT",
    "ACCENT_ACTIVE",
    "BG",
    "FG",
    "FG_DIM",
    "WARN",
    "button_style",
    "display_scale",
    "switch_image",
    "ui_font",
]


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


BG = _hex(BACKGROUND)
FG = _hex(TEXT)
FG_DIM = _hex(TEXT_DIM)
ACCENT = _hex(ORANGE)
ACCENT_ACTIVE = "#c4623f"
WARN = "#E3B341"


def display_scale(widget: tk.Misc) -> float:
    """The display's scale (1.0 at 96 dpi, 2.0 at 192), in steps of 0.25 from 1 to 4.

    X11: the desktop's `Xft.dpi` when it sets one, and Tk's point size is aligned with it (Tk
    itself only knows the screen's physical size, usually a nominal 96 dpi). Elsewhere, and
    without `Xft.dpi`: Tk's pixels per inch (on Windows the real DPI once the process is DPI
    aware, `platform.screen.enable_dpi_awareness`).
    """
    dpi = 96.0
    with contextlib.suppress(tk.TclError):
        dpi = float(widget.winfo_fpixels("1i"))
        if widget.tk.call("tk", "windowingsystem") == "x11":
            from claude_pulse.platform.screen import x11_xft_dpi

            xft = x11_xft_dpi(widget.winfo_screen())
            if xft is not None and abs(xft - dpi) > 1:
                widget.tk.call("tk", "scaling", xft / 72.0)  # Tk fonts then follow the desktop
                dpi = xft
    scale = math.floor(dpi / 96.0 * 4 + 0.5) / 4
    return min(4.0, max(1.0, scale))


def ui_font(size: int) -> tuple[str, int]:
    return ("DejaVu Sans", size) if sys.platform.startswith("linux") else ("Segoe UI", size)


def button_style(scale: float = 1.0) -> dict[str, Any]:
    """The orange action button (Refresh Claude, Save)."""
    return {
        "bg": ACCENT, "fg": "#ffffff", "activebackground": ACCENT_ACTIVE,
        "activeforeground": "#ffffff", "relief": "flat", "bd": 0, "highlightthickness": 0,
        "padx": round(12 * scale), "pady": round(5 * scale), "cursor": "hand2",
        "font": (ui_font(10)[0], 10, "bold"),
    }


def switch_image(*, on: bool, width: int = 34, height: int = 18,
                 scale: float = 1.0) -> Image.Image:
    """A pill switch drawn at 4x and downsampled (smooth edges on the dark background);
    `width` and `height` are 1x pixels, the image is `scale` times that."""
    width, height = round(width * scale), round(height * scale)
    ss = 4  # supersampling
    w, h = width * ss, height * ss
    image = Image.new("RGBA", (w, h), (*BACKGROUND, 255))
    draw = ImageDraw.Draw(image)
    track = ORANGE if on else (70, 70, 70)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=h // 2, fill=(*track, 255))
    pad = round(2 * scale) * ss
    knob = h - 2 * pad
    left = w - pad - knob if on else pad
    draw.ellipse((left, pad, left + knob, pad + knob),
                 fill=(255, 255, 255, 255) if on else (190, 190, 190, 255))
    return image.resize((width, height), Image.Resampling.LANCZOS)
