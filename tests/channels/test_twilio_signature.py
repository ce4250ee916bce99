"""Twilio signatures are checked exactly as Twilio's own RequestValidator checks them."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from channels.twilio import compute_signature, signature_valid

# twilio-python's published test vectors (tests/unit/test_request_validator.py).
TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
BODY = '{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
BODY_URI = f"{URI}&bodySHA256={BODY_HASH}"
BODY_EXPECTED = "a9nBmqA0ju/hNViExpshrM61xv4="


def test_the_published_vector() -> None:
    """Twilio's published form vector: the same signature, accepted."""
    assert compute_signature(TOKEN, URI, PARAMS) == EXPECTED
    assert signature_valid(TOKEN, URI, PARAMS, EXPECTED)


def test_the_published_json_vector() -> None:
    """Twilio's published bodySHA256 vector: signed over the URL alone, the body checked by its hash."""
    assert hashlib.sha256(BODY.encode()).hexdigest() == BODY_HASH
    assert signature_valid(TOKEN, BODY_URI, {}, BODY_EXPECTED, body=BODY)
    assert not signature_valid(TOKEN, BODY_URI, {}, BODY_EXPECTED, body=BODY + " ")


@pytest.mark.parametrize(
    "called",
    [
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
        "http://mycompany.com:80/myapp.php?foo=1&bar=2",
    ],
)
def test_ports_both_ways(called: str) -> None:
    """A signature for the URL without a port covers it with one, and the other way round, as Twilio's validator says."""
    without = called.replace(":443", "").replace(":1234", "").replace(":80", "")
    for signed, checked in ((without, called), (called, without)):
        signature = RequestValidator(TOKEN).compute_signature(signed, PARAMS)
        ours = signature_valid(TOKEN, checked, PARAMS, signature)
        assert ours == RequestValidator(TOKEN).validate(checked, PARAMS, signature)


def test_repeated_parameters() -> None:
    """A parameter sent twice is signed over its distinct values in sorted order, as Twilio's validator does."""
    multi = MultiDict([("To", "+18005551212"), ("Media", "b"), ("Media", "a"), ("Media", "b")])
    signature = RequestValidator(TOKEN).compute_signature(URI, multi)
    assert signature_valid(TOKEN, URI, {"To": "+18005551212", "Media": ("b", "a", "b")}, signature)
    assert not signature_valid(TOKEN, URI, {"To": "+18005551212", "Media": "a"}, signature)


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_urls = st.builds(
    lambda scheme, port, path, query: f"{scheme}://h.example{port}/{path}{query}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["", ":80", ":443", ":8443"]),
    st.from_regex(r"[a-z/]{0,12}", fullmatch=True),
    st.sampled_from(["", "?a=1", "?a=1&b=2"]),
)


@settings(max_examples=300, deadline=None)
@given(
    signed=_urls,
    checked=_urls,
    params=st.lists(st.tuples(st.sampled_from(["A", "B", "Body", "From"]), _text), max_size=6),
)
def test_we_agree_with_twilios_validator(
    signed: str, checked: str, params: list[tuple[str, str]]
) -> None:
    """For any URL pair and any (repeated) parameters, we accept exactly what Twilio's validator accepts."""
    multi = MultiDict(params)
    signature = RequestValidator(TOKEN).compute_signature(signed, multi)
    ours_params = {name: tuple(multi.getall(name)) for name in multi}
    assert signature_valid(TOKEN, checked, ours_params, signature) == RequestValidator(
        TOKEN
    ).validate(checked, multi, signature)
