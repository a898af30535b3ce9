"""The HTTP vocabulary every client shares: a response, the transport seam, Retry-After.

Pure: the transport that really sends (`services.http.UrllibTransport`) implements the
`HttpTransport` protocol; the OAuth flow and the usage client only ever see this module, so tests
can hand them any transport and nothing below the services imports urllib.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

__all__ = ["HttpResponse", "HttpTransport", "parse_retry_after"]


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # keys lower-cased

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """Decoded JSON body; raises ValueError when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8", errors="strict"))
        except RecursionError as exc:  # json nests by recursion; a hostile body can exhaust it
            raise ValueError("JSON nested too deeply") from exc


class HttpTransport(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        timeout: float,
    ) -> HttpResponse:
        """Send one request. Any HTTP status is a response; no answer raises NetworkError."""
        ...


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After in seconds (RFC 9110 §10.2.3: delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # RFC 9110 HTTP-dates are always GMT; a zone-less date is garbage
    return max(0.0, (when - now).total_seconds())
