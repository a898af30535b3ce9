"""The HTTP seam's stdlib implementation (the protocol and response type are `core.http`).

Everything that talks to a server takes a `core.http.HttpTransport`, so tests can aim it at the
fake server on loopback (real sockets, no mocks) and nothing else in the app imports urllib. Library
errors become `NetworkError` here, with a `reason` the poller and the user can act on.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from claude_pulse.core.http import HttpResponse
from claude_pulse.errors import NetworkError

__all__ = ["UrllibTransport"]

# A usage or token answer is a few kB; anything far larger is not what we asked for.
MAX_BODY_BYTES = 1 << 20


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # An API that answers with a redirect is misconfigured or a captive portal; following it
    # would send the bearer token somewhere we did not choose.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibTransport:
    """`HttpTransport` on urllib: TLS verified by the system store, redirects not followed."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirect())

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        timeout: float,
    ) -> HttpResponse:
        req = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
        host = urllib.parse.urlsplit(url).netloc
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                return HttpResponse(resp.status, _read(resp), _lower(resp.headers))
        except urllib.error.HTTPError as err:
            try:
                data = _read(err)
            except NetworkError:
                data = b""
            return HttpResponse(err.code, data, _lower(err.headers))
        except urllib.error.URLError as err:
            raise _network_error(err.reason, host) from err
        except (OSError, http.client.HTTPException) as err:
            raise _network_error(err, host) from err


def _read(resp: Any) -> bytes:
    try:
        data: bytes = resp.read(MAX_BODY_BYTES + 1)
    except (OSError, http.client.HTTPException) as err:
        raise _network_error(err, "the server") from err
    # read(amt) returns a short body instead of raising when the peer closes early.
    declared = (resp.headers.get("Content-Length") or "").strip() if resp.headers else ""
    if declared.isdigit() and len(data) < min(int(declared), MAX_BODY_BYTES):
        raise NetworkError("connection to the server was cut off mid-answer", "reset")
    return data[:MAX_BODY_BYTES]


def _lower(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    return {k.lower(): v for k, v in headers.items()}


def _network_error(reason: object, host: str) -> NetworkError:
    if isinstance(reason, socket.gaierror):
        return NetworkError(f"cannot resolve {host} (offline or DNS failure)", "dns")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return NetworkError(f"{host} did not answer in time", "timeout")
    if isinstance(reason, ConnectionRefusedError):
        return NetworkError(f"{host} refused the connection", "refused")
    if isinstance(reason, (ConnectionResetError, http.client.IncompleteRead,
                           http.client.RemoteDisconnected, ConnectionAbortedError)):
        return NetworkError(f"connection to {host} was cut off", "reset")
    if isinstance(reason, ssl.SSLError):
        return NetworkError(f"secure connection to {host} failed ({reason.reason})", "tls")
    if isinstance(reason, str) and "timed out" in reason:
        return NetworkError(f"{host} did not answer in time", "timeout")
    return NetworkError(f"cannot reach {host} ({reason.__class__.__name__})", "network")
