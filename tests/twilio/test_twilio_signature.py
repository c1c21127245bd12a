"""X-Twilio-Signature on the webhook and the WebSocket handshake, and public URLs
(adapters/twilio/signature.py, adapters/twilio/urls.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

import pytest

from adapters.twilio.signature import (
    SignatureChecker,
    SignatureConfigError,
    SignatureRejected,
    SignatureSettings,
    sign,
)
from adapters.twilio.urls import PublicUrlError, configured_public_url, external_url, stream_url

TOKEN = "test-auth-token-0123456789abcdef"
FORM = {
    "CallSid": "CA" + "1" * 32,
    "From": "+15551234567",
    "To": "+15557654321",
    "AccountSid": "AC" + "2" * 32,
}


def twilio_signature(url: str, params: dict[str, str]) -> str:
    """Twilio's documented algorithm, written out independently of the SDK."""
    data = url + "".join(k + params[k] for k in sorted(params))
    digest = hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def checker(public_url: str | None = None) -> SignatureChecker:
    return SignatureChecker(SignatureSettings(TOKEN, public_url))


# -- webhook -----------------------------------------------------------------------------------
def test_sdk_signature_matches_the_documented_algorithm() -> None:
    url = "https://calls.example.com/twilio/voice?tenant=a"
    assert sign(TOKEN, url, FORM) == twilio_signature(url, FORM)


def test_valid_webhook_signature_is_accepted() -> None:
    url = "https://calls.example.com/twilio/voice"
    headers = {"Host": "calls.example.com", "X-Twilio-Signature": twilio_signature(url, FORM)}
    checked = checker().check_webhook(
        scheme="https", path="/twilio/voice", query="", headers=headers, form=FORM
    )
    assert checked == url


def test_query_string_is_part_of_the_signed_url() -> None:
    url = "https://calls.example.com/twilio/voice?tenant=a"
    headers = {"host": "calls.example.com", "x-twilio-signature": twilio_signature(url, FORM)}
    checker().check_webhook(
        scheme="https", path="/twilio/voice", query="tenant=a", headers=headers, form=FORM
    )
    with pytest.raises(SignatureRejected):
        checker().check_webhook(
            scheme="https", path="/twilio/voice", query="tenant=b", headers=headers, form=FORM
        )


def test_forged_webhook_is_rejected(caplog: pytest.LogCaptureFixture) -> None:
    url = "https://calls.example.com/twilio/voice"
    forged = dict(FORM, From="+15550000000")  # signed for other params
    headers = {"Host": "calls.example.com", "X-Twilio-Signature": twilio_signature(url, FORM)}
    with caplog.at_level(logging.WARNING), pytest.raises(SignatureRejected) as caught:
        checker().check_webhook(
            scheme="https",
            path="/twilio/voice",
            query="",
            headers=headers,
            form=forged,
            call_id=FORM["CallSid"],
        )
    assert "invalid X-Twilio-Signature" in caught.value.reason
    assert FORM["CallSid"] in caplog.text and TOKEN not in caplog.text


def test_signature_made_with_another_token_is_rejected() -> None:
    url = "https://calls.example.com/twilio/voice"
    headers = {
        "Host": "calls.example.com",
        "X-Twilio-Signature": sign("some-other-token", url, FORM),
    }
    with pytest.raises(SignatureRejected):
        checker().check_webhook(
            scheme="https", path="/twilio/voice", query="", headers=headers, form=FORM
        )


def test_missing_signature_is_rejected() -> None:
    with pytest.raises(SignatureRejected, match="missing X-Twilio-Signature"):
        checker().check_webhook(
            scheme="https",
            path="/twilio/voice",
            query="",
            headers={"Host": "calls.example.com"},
            form=FORM,
        )


def test_proxy_headers_give_the_url_twilio_signed() -> None:
    # ngrok / a load balancer: TLS ends at the proxy, the app sees http://localhost:8000
    url = "https://abc.ngrok.app/twilio/voice"
    headers = {
        "Host": "localhost:8000",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "abc.ngrok.app",
        "X-Twilio-Signature": twilio_signature(url, FORM),
    }
    assert (
        checker().check_webhook(
            scheme="http", path="/twilio/voice", query="", headers=headers, form=FORM,
            peer="127.0.0.1",  # the proxy (ngrok's agent) runs on this machine
        )
        == url
    )
    without_proxy_headers = {
        "Host": "localhost:8000",
        "X-Twilio-Signature": headers["X-Twilio-Signature"],
    }
    with pytest.raises(SignatureRejected):
        checker().check_webhook(
            scheme="http", path="/twilio/voice", query="", headers=without_proxy_headers, form=FORM
        )


def test_configured_public_url_wins_over_headers() -> None:
    url = "https://calls.example.com/twilio/voice"
    headers = {
        "Host": "10.0.0.5:8000",
        "X-Forwarded-Host": "spoofed.example",
        "X-Twilio-Signature": twilio_signature(url, FORM),
    }
    checker("https://calls.example.com").check_webhook(
        scheme="http", path="/twilio/voice", query="", headers=headers, form=FORM
    )


# -- WebSocket handshake -----------------------------------------------------------------------
def test_websocket_handshake_signs_the_wss_url_without_params() -> None:
    url = "wss://abc.ngrok.app/ws/media"
    headers = {
        "Host": "localhost:8000",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "abc.ngrok.app",
        "X-Twilio-Signature": twilio_signature(url, {}),
    }
    assert (
        checker().check_websocket(scheme="ws", path="/ws/media", query="", headers=headers,
                                  peer="::1") == url
    )


def test_websocket_with_public_url_and_a_forged_or_missing_signature() -> None:
    good = twilio_signature("wss://calls.example.com/ws/media", {})
    check = checker("https://calls.example.com")
    check.check_websocket(
        scheme="ws", path="/ws/media", query="", headers={"X-Twilio-Signature": good}
    )
    with pytest.raises(SignatureRejected, match="invalid"):
        check.check_websocket(
            scheme="ws", path="/ws/other", query="", headers={"X-Twilio-Signature": good}
        )
    with pytest.raises(SignatureRejected, match="missing"):
        check.check_websocket(scheme="ws", path="/ws/media", query="", headers={})


def test_websocket_query_params_count_as_params_or_as_part_of_the_url() -> None:
    base = "wss://calls.example.com/ws/media"
    check = checker("https://calls.example.com")
    for signature in (twilio_signature(base, {"t": "1"}), twilio_signature(base + "?t=1", {})):
        check.check_websocket(
            scheme="wss", path="/ws/media", query="t=1", headers={"X-Twilio-Signature": signature}
        )


# -- settings ----------------------------------------------------------------------------------
def test_settings_from_env() -> None:
    settings = SignatureSettings.from_env(
        {"TWILIO_AUTH_TOKEN": TOKEN, "DIALFLOW_PUBLIC_URL": "https://calls.example.com/"}
    )
    assert settings.auth_token == TOKEN and not settings.skip
    assert settings.public_url == "https://calls.example.com"
    assert TOKEN not in repr(settings)


def test_missing_token_fails_closed_naming_the_variable() -> None:
    with pytest.raises(SignatureConfigError, match="TWILIO_AUTH_TOKEN"):
        SignatureSettings.from_env({})


def test_explicit_skip_disables_checks_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    settings = SignatureSettings.from_env({"DIALFLOW_INSECURE_SKIP_SIGNATURE": "1"})
    with caplog.at_level(logging.WARNING):
        check = SignatureChecker(settings)
    assert "DISABLED" in caplog.text
    check.check_webhook(
        scheme="https", path="/twilio/voice", query="", headers={"Host": "x.example"}, form=FORM
    )  # no signature, no error
    check.check_websocket(scheme="wss", path="/ws/media", query="", headers={"Host": "x"})


def test_skip_needs_an_explicit_true_value() -> None:
    with pytest.raises(SignatureConfigError):
        SignatureSettings.from_env({"DIALFLOW_INSECURE_SKIP_SIGNATURE": "0"})


def test_hand_built_settings_without_token_reject_everything() -> None:
    with pytest.raises(SignatureRejected, match="TWILIO_AUTH_TOKEN"):
        SignatureChecker(SignatureSettings()).check_websocket(
            scheme="wss",
            path="/ws/media",
            query="",
            headers={"Host": "x.example", "X-Twilio-Signature": "x"},
        )


def test_a_request_without_any_host_is_rejected_not_crashed() -> None:
    with pytest.raises(SignatureRejected, match="no Host header"):
        checker().check_webhook(
            scheme="https", path="/v", query="", headers={"X-Twilio-Signature": "x"}, form=FORM
        )


# -- public URLs -------------------------------------------------------------------------------
def test_external_url_variants() -> None:
    assert external_url(scheme="http", path="/v", headers={"Host": "h:8000"}) == "http://h:8000/v"
    assert (
        external_url(
            scheme="http",
            path="/v",
            query="a=1",
            headers={
                "X-Forwarded-Proto": "http, https",
                "X-Forwarded-Host": "client-chose.example, pub.example",
                "Host": "h",
            },
            trust_forwarded=True,
        )
        == "https://pub.example/v?a=1"
    )
    assert external_url(
        scheme="http",
        path="/ws/media",
        headers={},
        websocket=True,
        public_url="https://pub.example/prefix",
    ) == ("wss://pub.example/prefix/ws/media")
    with pytest.raises(PublicUrlError):
        external_url(scheme="http", path="/v", headers={})


def test_rfc7239_forwarded_header_gives_the_public_url() -> None:
    def url(forwarded: str, **more: str) -> str:
        headers = {"Host": "10.0.0.5:8000", "Forwarded": forwarded, **more}
        return external_url(scheme="http", path="/webhook/voice", headers=headers,
                            trust_forwarded=True)

    assert url("for=192.0.2.60;proto=https;host=calls.example.com") == (
        "https://calls.example.com/webhook/voice")
    # Case-insensitive keys, quoted values, and only the nearest proxy's (last) entry counts.
    assert url("proto=http;host=client-chose, "
               'For="[2001:db8::1]:4711";Host="calls.example.com:8443";PROTO=https'
               ) == "https://calls.example.com:8443/webhook/voice"
    # A quoted comma does not end the first entry.
    assert url('for="a,b";host=pub.example;proto=https') == "https://pub.example/webhook/voice"
    # Forwarded wins over X-Forwarded-*; a field it lacks falls back to them, then to Host.
    assert url("host=pub.example", **{"X-Forwarded-Proto": "https",
                                      "X-Forwarded-Host": "old.example"}) == (
        "https://pub.example/webhook/voice")
    assert url("for=192.0.2.60") == "http://10.0.0.5:8000/webhook/voice"


def test_a_signature_for_the_forwarded_url_is_accepted() -> None:
    url = "https://calls.example.com/webhook/voice"
    headers = {"Host": "localhost:8000", "Forwarded": "proto=https;host=calls.example.com",
               "X-Twilio-Signature": twilio_signature(url, FORM)}
    assert checker().check_webhook(scheme="http", path="/webhook/voice", query="",
                                   headers=headers, form=FORM, peer="127.0.0.1") == url


def test_stream_url_for_twiml() -> None:
    assert stream_url(scheme="https", headers={"Host": "calls.example.com"}) == (
        "wss://calls.example.com/ws/media"
    )
    assert stream_url(scheme="http", headers={"Host": "127.0.0.1:8000"}) == (
        "ws://127.0.0.1:8000/ws/media"
    )


@pytest.mark.parametrize("bad", ["calls.example.com", "ftp://x", "https://x/?a=1"])
def test_bad_public_url_configuration_is_refused(bad: str) -> None:
    with pytest.raises(PublicUrlError, match="DIALFLOW_PUBLIC_URL"):
        configured_public_url({"DIALFLOW_PUBLIC_URL": bad})
