"""PKCE helpers against RFC 7636 Appendix B and the character rules of §4.1."""

from __future__ import annotations

import re

import pytest

from claude_pulse.oauth.pkce import VERIFIER_PATTERN, make_state, make_verifier, s256_challenge

# RFC 7636 Appendix B: the verifier is base64url of these 32 octets.
RFC_OCTETS = bytes([
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
])
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
CHALLENGE_SHAPE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def test_rfc7636_appendix_b_verifier_from_octets() -> None:
    assert make_verifier(lambda n: RFC_OCTETS[:n]) == RFC_VERIFIER


def test_rfc7636_appendix_b_challenge() -> None:
    assert s256_challenge(RFC_VERIFIER) == RFC_CHALLENGE


@pytest.mark.parametrize("make", [
    pytest.param(make_verifier, id="verifier"),
    pytest.param(make_state, id="state"),
])
def test_random_values_are_43_urlsafe_chars_and_differ(make: object) -> None:
    assert callable(make)
    values = {make() for _ in range(50)}
    assert len(values) == 50
    assert all(VERIFIER_PATTERN.match(v) and len(v) == 43 for v in values)


def test_challenge_shape_for_random_verifiers() -> None:
    for _ in range(20):
        assert CHALLENGE_SHAPE.match(s256_challenge(make_verifier()))


@pytest.mark.parametrize("verifier", [
    pytest.param("a" * 42, id="too-short"),
    pytest.param("a" * 129, id="too-long"),
    pytest.param("a" * 42 + "+", id="plus-not-allowed"),
    pytest.param("a" * 42 + "=", id="padding-not-allowed"),
    pytest.param("é" * 43, id="non-ascii"),
])
def test_bad_verifiers_are_refused(verifier: str) -> None:
    with pytest.raises(ValueError, match="43-128"):
        s256_challenge(verifier)


@pytest.mark.parametrize("verifier", [
    pytest.param("a" * 43, id="min"),
    pytest.param("Z" * 128, id="max"),
    pytest.param("-._~" * 11, id="unreserved-punctuation"),
])
def test_boundary_verifiers_are_accepted(verifier: str) -> None:
    assert CHALLENGE_SHAPE.match(s256_challenge(verifier))
