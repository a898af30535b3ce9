"""Write the logo drawn by `claude_pulse.ui.render.logo` to assets/logo.png and the package's copy.

Run after changing `ui/render/logo.py`: `python scripts/make_logo.py`. A test checks that both files
still match a fresh render, so the code and the committed images cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

from claude_pulse.ui.render.logo import draw_logo

ROOT = Path(__file__).resolve().parent.parent
TARGETS = (ROOT / "assets" / "logo.png", ROOT / "src" / "claude_pulse" / "assets" / "logo.png")
SIZE = 256


def main() -> None:
    logo = draw_logo(SIZE)
    for path in TARGETS:
        path.parent.mkdir(parents=True, exist_ok=True)
        logo.save(path, optimize=True)
        print(f"wrote {path.relative_to(ROOT)} ({SIZE}x{SIZE})")


if __name__ == "__main__":
    main()
