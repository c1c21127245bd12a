"""The public URLs Twilio uses to reach us: what it signs and where the TwiML points it.

Behind a proxy (ngrok, a load balancer) the server sees its own scheme and host, not the
ones Twilio called, so the URL is rebuilt from configuration (`DIALFLOW_PUBLIC_URL`, which
wins) or, only when the request came from a trusted proxy (`DIALFLOW_TRUSTED_PROXIES`,
loopback by default), from the entry that proxy added last to RFC 7239 `Forwarded`
(`proto=`, `host=`), then `X-Forwarded-Proto` / `X-Forwarded-Host`; otherwise from `Host`.
Anyone else's forwarded headers are ignored: a client must not choose the host a signature
is checked against. WebSocket URLs use `wss`/`ws` where the HTTP side says `https`/`http`.
Pure functions, no I/O.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from engine.environment import DIALFLOW_PUBLIC_URL, DIALFLOW_TRUSTED_PROXIES

PUBLIC_URL_ENV = DIALFLOW_PUBLIC_URL
TRUSTED_PROXIES_ENV = DIALFLOW_TRUSTED_PROXIES
LOOPBACK_PROXIES = ("127.0.0.1", "::1")
STREAM_PATH = "/ws/media"

_TO_WS = {"https": "wss", "http": "ws"}
_TO_HTTP = {"wss": "https", "ws": "http"}


class PublicUrlError(ValueError):
    """The public URL cannot be determined (bad configuration or no Host header)."""


def configured_public_url(env: Mapping[str, str] | None = None) -> str | None:
    """`DIALFLOW_PUBLIC_URL` (e.g. `https://calls.example.com`), validated; None if unset."""
    value = (os.environ if env is None else env).get(PUBLIC_URL_ENV, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise PublicUrlError(f"{PUBLIC_URL_ENV} must look like https://host[:port], got {value!r}")
    if parts.query or parts.fragment:
        raise PublicUrlError(f"{PUBLIC_URL_ENV} must not carry a query or fragment")
    return value.rstrip("/")


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    """The peers whose forwarded headers count: addresses or networks, or every peer."""

    networks: tuple[Network, ...] = ()
    everyone: bool = False
    configured: bool = False  # set explicitly (not the loopback default)

    @classmethod
    def parse(cls, value: str, *, configured: bool = True) -> TrustedProxies:
        """`"10.0.0.0/8, 127.0.0.1"`, or `"*"` for every peer; raises `PublicUrlError`."""
        items = [item.strip() for item in value.split(",") if item.strip()]
        if "*" in items:
            return cls((), True, configured)
        networks = []
        for item in items:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise PublicUrlError(
                    f"{TRUSTED_PROXIES_ENV} must list IP addresses or networks (or '*'), "
                    f"got {item!r:.60}") from None
        return cls(tuple(networks), False, configured)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TrustedProxies:
        value = (os.environ if env is None else env).get(TRUSTED_PROXIES_ENV, "").strip()
        if not value:
            return cls.parse(",".join(LOOPBACK_PROXIES), configured=False)
        return cls.parse(value)

    def trusts(self, peer: str | None) -> bool:
        """True when a request from `peer` (an IP address) may carry forwarded headers."""
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address((peer or "").strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def is_loopback(host: str) -> bool:
    """True for a bind address only this machine can reach (`127.x`, `::1`, `localhost`)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(bind_host: str, env: Mapping[str, str] | None = None) -> None:
    """Refuse to serve beyond this machine when nothing says which host Twilio calls: there,
    the `Host` header is the client's choice. Raises `PublicUrlError` in one line."""
    env = os.environ if env is None else env
    configured_public_url(env)
    proxies = TrustedProxies.from_env(env)
    if is_loopback(bind_host) or env.get(PUBLIC_URL_ENV, "").strip() or proxies.configured:
        return
    raise PublicUrlError(
        f"serving on {bind_host} needs {PUBLIC_URL_ENV} (e.g. https://calls.example.com) or "
        f"{TRUSTED_PROXIES_ENV} (the proxy addresses in front of it), so that a caller "
        "cannot choose the URL Twilio signatures are checked against")


def _last(value: str | None) -> str:
    """The entry the nearest proxy appended to a header a chain of proxies may have
    appended to (earlier entries may have come from the client)."""
    return (value or "").split(",")[-1].strip()


def _forwarded(value: str | None) -> dict[str, str]:
    """The last element of an RFC 7239 `Forwarded` header (the one the nearest proxy
    added) as lower-case keys, e.g. `for=192.0.2.60;proto=https;host="calls.example.com"`
    -> {"for": ..., "proto": "https", "host": "calls.example.com"}. Quoted values may hold
    commas and semicolons."""
    fields: dict[str, str] = {}
    last: dict[str, str] = {}
    key, token, quoted, escaped = "", "", False, False
    for char in (value or "") + ",":
        if escaped:
            token, escaped = token + char, False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
            else:
                token += char
        elif char == '"':
            quoted = True
        elif char == "=" and not key:
            key, token = token.strip().lower(), ""
        elif char in ";,":
            if key:
                fields.setdefault(key, token.strip())
            key, token = "", ""
            if char == "," and fields:
                last, fields = fields, {}
        else:
            token += char
    return last


def _scheme_for(scheme: str, websocket: bool) -> str:
    scheme = scheme.lower()
    return _TO_WS.get(scheme, scheme) if websocket else _TO_HTTP.get(scheme, scheme)


def external_url(
    *,
    scheme: str,
    path: str,
    headers: Mapping[str, str],
    query: str = "",
    public_url: str | None = None,
    websocket: bool = False,
    trust_forwarded: bool = False,
) -> str:
    """The absolute URL the caller (Twilio) used for this request.

    `scheme`, `path` and `query` are what the server saw; `headers` are the request's
    headers (any case). With `public_url`, its scheme and host replace the request's and its
    path, if any, is a prefix a proxy stripped before the request reached us. Forwarded
    headers count only with `trust_forwarded` (the request came from a trusted proxy).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    prefix = ""
    if public_url:
        parts = urlsplit(public_url)
        proto, host, prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")
    else:
        proto, host = scheme, (lower.get("host") or "").strip()
        if trust_forwarded:
            forwarded = _forwarded(lower.get("forwarded"))
            proto = forwarded.get("proto") or _last(lower.get("x-forwarded-proto")) or proto
            host = forwarded.get("host") or _last(lower.get("x-forwarded-host")) or host
    if not host:
        raise PublicUrlError("no Host header and no public URL configured")
    return urlunsplit((_scheme_for(proto, websocket), host, prefix + path, query, ""))


def stream_url(
    *,
    scheme: str,
    headers: Mapping[str, str],
    public_url: str | None = None,
    path: str = STREAM_PATH,
    trust_forwarded: bool = False,
) -> str:
    """The `wss://` URL for `<Stream url=...>` answering a webhook that arrived with
    `scheme` and `headers`. Twilio drops query strings here; pass data as Parameters."""
    return external_url(
        scheme=scheme, path=path, headers=headers, public_url=public_url, websocket=True,
        trust_forwarded=trust_forwarded,
    )


def hooks_base(stream_url: str) -> str:
    """`https://host[/prefix]` of our webhooks, from the `wss://host[/prefix]/ws/media` URL
    Twilio opened (as checked); "" when there is none."""
    parts = urlsplit(stream_url or "")
    if parts.scheme not in _TO_HTTP or not parts.netloc:
        return ""
    prefix = parts.path[: -len(STREAM_PATH)] if parts.path.endswith(STREAM_PATH) else ""
    return urlunsplit((_TO_HTTP[parts.scheme], parts.netloc, prefix.rstrip("/"), "", ""))
