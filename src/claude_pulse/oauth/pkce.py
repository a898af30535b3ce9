"""PKCE (RFC 7636) and the `state` value, from the `secrets` CSPRNG.

Randomness is a parameter (`token_bytes`) so tests can pin it; production uses
`secrets.token_bytes`. Never `random`: MSAL's `random.sample` verifier is the wart not to copy.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable

__all__ = ["VERIFIER_PATTERN", "make_state", "make_verifier", "s256_challenge"]

# RFC 7636 §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
VERIFIER_PATTERN = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")

# 32 bytes -> 43 base64url characters, the RFC's recommendation (§4.1) and Claude Code's choice.
_ENTROPY_BYTES = 32

TokenBytes = Callable[[int], bytes]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_verifier(token_bytes: TokenBytes = secrets.token_bytes) -> str:
    return _b64url(token_bytes(_ENTROPY_BYTES))


def make_state(token_bytes: TokenBytes = secrets.token_bytes) -> str:
    """The CSRF value echoed by the callback (protocol.md §1.2)."""
    return _b64url(token_bytes(_ENTROPY_BYTES))


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2)."""
    if not VERIFIER_PATTERN.match(verifier):
        raise ValueError("a PKCE verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~")
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
