"""The public URLs Twilio uses to reach us: what it signs and where the TwiML points it.

Behind a proxy (ngrok, a load balancer) the server sees its own scheme and host, not the
ones Twilio called, so the URL is rebuilt from configuration (`DIALFLOW_PUBLIC_URL`, which
wins) or from the first proxy's entry in RFC 7239 `Forwarded` (`proto=`, `host=`), then
`X-Forwarded-Proto` / `X-Forwarded-Host`, then `Host`. WebSocket URLs use
`wss`/`ws` where the HTTP side says `https`/`http`. Pure functions, no I/O.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

PUBLIC_URL_ENV = "DIALFLOW_PUBLIC_URL"
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


def _first(value: str | None) -> str:
    """The first entry of a header a chain of proxies may have appended to."""
    return (value or "").split(",")[0].strip()


def _forwarded(value: str | None) -> dict[str, str]:
    """The first element of an RFC 7239 `Forwarded` header as lower-case keys, e.g.
    `for=192.0.2.60;proto=https;host="calls.example.com"` -> {"for": ..., "proto": "https",
    "host": "calls.example.com"}. Quoted values may hold commas and semicolons."""
    fields: dict[str, str] = {}
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
            if char == ",":
                break
        else:
            token += char
    return fields


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
) -> str:
    """The absolute URL the caller (Twilio) used for this request.

    `scheme`, `path` and `query` are what the server saw; `headers` are the request's
    headers (any case). With `public_url`, its scheme and host replace the request's and its
    path, if any, is a prefix a proxy stripped before the request reached us.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    prefix = ""
    if public_url:
        parts = urlsplit(public_url)
        proto, host, prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")
    else:
        forwarded = _forwarded(lower.get("forwarded"))
        proto = forwarded.get("proto") or _first(lower.get("x-forwarded-proto")) or scheme
        host = (forwarded.get("host") or _first(lower.get("x-forwarded-host"))
                or _first(lower.get("host")))
    if not host:
        raise PublicUrlError("no Host header and no public URL configured")
    return urlunsplit((_scheme_for(proto, websocket), host, prefix + path, query, ""))


def stream_url(
    *,
    scheme: str,
    headers: Mapping[str, str],
    public_url: str | None = None,
    path: str = STREAM_PATH,
) -> str:
    """The `wss://` URL for `<Stream url=...>` answering a webhook that arrived with
    `scheme` and `headers`. Twilio drops query strings here; pass data as Parameters."""
    return external_url(
        scheme=scheme, path=path, headers=headers, public_url=public_url, websocket=True
    )
