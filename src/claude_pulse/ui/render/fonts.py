"""Fonts for the rendered card and tray icon, found once and cached.

DejaVu Sans first (the look we tune for; most Linux desktops have it), then what Windows and macOS
ship, then Pillow's built-in font so rendering never fails for want of a file.
"""

from __future__ import annotations

import enum
import functools

from PIL import ImageFont

__all__ = ["Font", "Weight", "font"]

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class Weight(enum.Enum):
    REGULAR = (
        "DejaVuSans.ttf",
        "segoeui.ttf",
        "arial.ttf",
        "Arial.ttf",
        "Helvetica.ttc",
    )
    BOLD = (
        "DejaVuSans-Bold.ttf",
        "segoeuib.ttf",
        "arialbd.ttf",
        "Arial Bold.ttf",
        "Helvetica.ttc",
    )
    # Narrow digits fill a 16 px tray icon with two of them.
    CONDENSED_BOLD = (
        "DejaVuSansCondensed-Bold.ttf",
        "arialnb.ttf",
        "Arial Narrow Bold.ttf",
        "DejaVuSans-Bold.ttf",
        "segoeuib.ttf",
        "arialbd.ttf",
        "Arial Bold.ttf",
    )


@functools.cache
def _path(weight: Weight) -> str | None:
    # Pillow walks the system font folders for a bare name; do that once per weight.
    for name in weight.value:
        try:
            found = ImageFont.truetype(name, 12)
        except OSError:
            continue
        return str(found.path)
    return None


@functools.lru_cache(maxsize=128)
def font(size: int, weight: Weight = Weight.REGULAR) -> Font:
    """A font `size` pixels high (em size)."""
    path = _path(weight)
    if path is not None:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)
