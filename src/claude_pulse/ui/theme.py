"""The look the app's Tk windows share: the Deep Dive's dark card colours, fonts and button."""

from __future__ import annotations

import sys
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


def ui_font(size: int) -> tuple[str, int]:
    return ("DejaVu Sans", size) if sys.platform.startswith("linux") else ("Segoe UI", size)


def button_style() -> dict[str, Any]:
    """The orange action button (Refresh Claude, Save)."""
    return {
        "bg": ACCENT, "fg": "#ffffff", "activebackground": ACCENT_ACTIVE,
        "activeforeground": "#ffffff", "relief": "flat", "bd": 0, "highlightthickness": 0,
        "padx": 12, "pady": 5, "cursor": "hand2", "font": (ui_font(10)[0], 10, "bold"),
    }


def switch_image(*, on: bool, width: int = 34, height: int = 18) -> Image.Image:
    """A pill switch drawn at 4x and downsampled (smooth edges on the dark background)."""
    scale = 4
    w, h = width * scale, height * scale
    image = Image.new("RGBA", (w, h), (*BACKGROUND, 255))
    draw = ImageDraw.Draw(image)
    track = ORANGE if on else (70, 70, 70)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=h // 2, fill=(*track, 255))
    pad = 2 * scale
    knob = h - 2 * pad
    left = w - pad - knob if on else pad
    draw.ellipse((left, pad, left + knob, pad + knob),
                 fill=(255, 255, 255, 255) if on else (190, 190, 190, 255))
    return image.resize((width, height), Image.Resampling.LANCZOS)
