"""Refresh now's debounce: one request per `REFRESH_GAP_S` at most, whichever surface asks
(the window's button, F5/Ctrl+R, the tray menu), and the words those surfaces show meanwhile.

A plain value: the controller keeps one and replaces it; the time is a monotonic reading in
seconds, passed in. The gap counts from the press that sent a request, whatever the answer
(a failed request still reached the server, or tried to); a press the poller refused (a
cooldown, the spent budget) sent nothing, so it does not count.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

__all__ = ["REFRESH_GAP_S", "RefreshDebounce", "RefreshState", "refresh_text"]

REFRESH_GAP_S = 30.0


class RefreshState(enum.Enum):
    READY = "ready"  # a press sends a request
    UPDATING = "updating"  # asked; no answer yet
    UPDATED = "updated"  # fresh numbers came
    CHECKED = "checked"  # asked, and the answer was a problem (the banner says which)


# What a surface shows instead of its own "Refresh" label; READY: its own label.
_TEXT = {
    RefreshState.UPDATING: "Updating…",
    RefreshState.UPDATED: "Updated just now",
    RefreshState.CHECKED: "Checked just now",
}


def refresh_text(state: RefreshState) -> str | None:
    return _TEXT.get(state)


@dataclass(frozen=True)
class RefreshDebounce:
    asked_at: float | None = None  # the press that sent the last request
    answer: bool | None = None  # None: not in yet; True: fresh numbers; False: a problem
    gap_s: float = REFRESH_GAP_S

    def state(self, now: float) -> RefreshState:
        if self.asked_at is None or now - self.asked_at >= self.gap_s:
            return RefreshState.READY
        if self.answer is None:
            return RefreshState.UPDATING
        return RefreshState.UPDATED if self.answer else RefreshState.CHECKED

    def press(self, now: float) -> RefreshDebounce | None:
        """The state after a press that sends a request; None: within the gap, send nothing."""
        if self.state(now) is not RefreshState.READY:
            return None
        return RefreshDebounce(now, None, self.gap_s)

    def answered(self, ok: bool) -> RefreshDebounce:
        """The first answer after the press (a later one changes nothing)."""
        if self.asked_at is None or self.answer is not None:
            return self
        return replace(self, answer=ok)

    def refused(self) -> RefreshDebounce:
        """The press sent nothing (refused): the next one may ask at once."""
        return RefreshDebounce(gap_s=self.gap_s)

    def changes_in(self, now: float) -> float | None:
        """Seconds until the state changes by itself (the gap's end); None: it will not."""
        if self.asked_at is None or self.state(now) is RefreshState.READY:
            return None
        return self.asked_at + self.gap_s - now
