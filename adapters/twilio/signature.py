"""Checking `X-Twilio-Signature` on the voice webhook and on the Media Stream handshake.

Twilio signs, with the account's auth token, the full URL it called followed by the sorted
POST parameters (HMAC-SHA1, base64); for the WebSocket handshake it signs the `wss://` URL
and there are no POST parameters. Checking uses the SDK's `RequestValidator`. The token
comes only from `TWILIO_AUTH_TOKEN` and is never logged. The URL comes from
`DIALFLOW_PUBLIC_URL`, or from forwarded headers only when the peer is a trusted proxy
(`DIALFLOW_TRUSTED_PROXIES`). The same token keys the binding of each media stream to the
call the webhook answered (`binding.py`). `DIALFLOW_INSECURE_SKIP_SIGNATURE=1` turns checking
off for local development and says so loudly in the log. Ids are escaped before logging.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from adapters.twilio.binding import BINDING_PARAM, BindingRejected, check_binding, make_binding
from adapters.twilio.urls import (
    PublicUrlError,
    TrustedProxies,
    configured_public_url,
    external_url,
)
from engine.environment import DIALFLOW_INSECURE_SKIP_SIGNATURE, TWILIO_AUTH_TOKEN
from engine.redaction import escape_id

log = logging.getLogger("dialflow.twilio.signature")

SIGNATURE_HEADER = "X-Twilio-Signature"
AUTH_TOKEN_ENV = TWILIO_AUTH_TOKEN
SKIP_ENV = DIALFLOW_INSECURE_SKIP_SIGNATURE
_TRUE = {"1", "true", "yes", "on"}


class SignatureConfigError(RuntimeError):
    """Signature checking is neither configured nor explicitly disabled."""


class SignatureRejected(Exception):
    """The request does not carry a valid Twilio signature; `reason` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignatureSettings:
    auth_token: str | None = field(default=None, repr=False)
    public_url: str | None = None
    skip: bool = False
    trusted_proxies: TrustedProxies = field(default_factory=lambda: TrustedProxies.parse(
        "127.0.0.1,::1", configured=False))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SignatureSettings:
        """Read the token, the public URL and the skip switch; fail closed without a token."""
        env = os.environ if env is None else env
        skip = env.get(SKIP_ENV, "").strip().lower() in _TRUE
        token = env.get(AUTH_TOKEN_ENV, "").strip() or None
        if token is None and not skip:
            raise SignatureConfigError(
                f"{AUTH_TOKEN_ENV} is not set, so Twilio signatures cannot be checked; set it, "
                f"or set {SKIP_ENV}=1 for local development only"
            )
        return cls(token, configured_public_url(env), skip, TrustedProxies.from_env(env))


class SignatureChecker:
    """Validates the signature of one request at a time; shared by the whole server."""

    def __init__(self, settings: SignatureSettings) -> None:
        self.settings = settings
        self._validator = RequestValidator(settings.auth_token) if settings.auth_token else None
        if settings.skip:
            log.warning(
                "Twilio signature checks are DISABLED (%s=1): anyone can reach the "
                "webhook and the media stream; never use this in production",
                SKIP_ENV,
            )

    def check_webhook(
        self,
        *,
        scheme: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        form: Mapping[str, str],
        call_id: str = "",
        peer: str | None = None,
    ) -> str:
        """Check a form POST from Twilio; return the URL it was checked against.
        `form` may be a multi-dict (Starlette's `FormData`): repeated keys all count.
        Raises `SignatureRejected` when the signature is missing or wrong."""
        url = self._url(
            "webhook",
            call_id,
            scheme=scheme,
            path=path,
            query=query,
            headers=headers,
            public_url=self.settings.public_url,
            trust_forwarded=self.trusts(peer),
        )
        self._check(headers, [(url, form)], "webhook", call_id)
        return url

    def check_websocket(
        self,
        *,
        scheme: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        call_id: str = "",
        peer: str | None = None,
    ) -> str:
        """Check a WebSocket handshake from Twilio; return the URL it was checked against.

        Twilio signs the `wss://` URL; any query parameters are accepted either folded in as
        parameters (as Twilio's own helpers do) or left in the URL."""
        base = self._url(
            "media stream",
            call_id,
            scheme=scheme,
            path=path,
            headers=headers,
            public_url=self.settings.public_url,
            websocket=True,
            trust_forwarded=self.trusts(peer),
        )
        candidates: list[tuple[str, Mapping[str, str]]] = [
            (base, dict(parse_qsl(query, keep_blank_values=True)))
        ]
        if query:
            candidates.append((f"{base}?{query}", {}))
        self._check(headers, candidates, "media stream", call_id)
        return base

    def trusts(self, peer: str | None) -> bool:
        """May a request from `peer` tell us the public URL through forwarded headers?"""
        return self.settings.trusted_proxies.trusts(peer)

    def bind_call(self, call_sid: str, caller: str) -> dict[str, str]:
        """The extra `<Parameter>`s binding the stream the webhook answers with to this
        call (none when checking is off or no token is configured)."""
        if self.settings.skip or not self.settings.auth_token:
            return {}
        value = make_binding(self.settings.auth_token, call_sid, caller, time.time())
        return {BINDING_PARAM: value}

    def check_binding(self, call_sid: str, caller: str, parameters: Mapping[str, str]) -> None:
        """Raise `BindingRejected` unless the stream's `start` carries the binding the
        webhook issued for this CallSid and caller (skipped when checking is off)."""
        if self.settings.skip:
            return
        if not self.settings.auth_token:
            raise BindingRejected(f"{AUTH_TOKEN_ENV} is not configured")
        check_binding(self.settings.auth_token, call_sid, caller,
                      parameters.get(BINDING_PARAM, ""), time.time())

    def _url(self, what: str, call_id: str, **parts: Any) -> str:
        try:
            return external_url(**parts)
        except PublicUrlError as exc:
            if self.settings.skip:
                return ""
            log.warning("call %s: %s request rejected: %s", escape_id(call_id) or "-", what,
                        exc)
            raise SignatureRejected(str(exc)) from None

    def _check(
        self,
        headers: Mapping[str, str],
        candidates: list[tuple[str, Mapping[str, str]]],
        what: str,
        call_id: str,
    ) -> None:
        if self.settings.skip:
            return
        if self._validator is None:  # settings built by hand without a token
            raise SignatureRejected(f"{AUTH_TOKEN_ENV} is not configured")
        signature = _header(headers, SIGNATURE_HEADER)
        url = escape_id(candidates[0][0], 200)
        if not signature:
            log.warning(
                "call %s: %s request without %s (url %s)",
                escape_id(call_id) or "-",
                what,
                SIGNATURE_HEADER,
                url,
            )
            raise SignatureRejected(f"missing {SIGNATURE_HEADER}")
        if not any(self._validator.validate(u, params, signature) for u, params in candidates):
            log.warning(
                "call %s: %s request with a wrong %s (url %s)",
                escape_id(call_id) or "-",
                what,
                SIGNATURE_HEADER,
                url,
            )
            raise SignatureRejected(f"invalid {SIGNATURE_HEADER} for {url}")


def sign(auth_token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """The signature Twilio would send for `url` and POST `params` (for the simulated caller
    and for tests)."""
    return RequestValidator(auth_token).compute_signature(url, dict(params or {}))


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip()
    return ""
