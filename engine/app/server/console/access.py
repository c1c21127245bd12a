"""Who may open the console: whoever shows `DIALFLOW_CONSOLE_TOKEN`.

Three ways to show it, all compared in constant time: `Authorization: Bearer <token>`,
basic auth with the token as the password (any user name), or the session cookie the login
form sets. The cookie never holds the token: it is `<expiry>.<nonce>.<mac>`, the MAC keyed
by a key derived from the token (HMAC-SHA256), so changing the token logs every session
out, and a cookie cannot be forged or extended without it. It is HttpOnly, SameSite=Strict
and scoped to /console (Secure when the request came over https). Pure functions and one
small class; no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

from engine.environment import DIALFLOW_CONSOLE_TOKEN

TOKEN_ENV = DIALFLOW_CONSOLE_TOKEN
COOKIE = "dialflow_console"
SESSION_SECONDS = 12 * 3600
MAX_HEADER = 1024  # an Authorization header or cookie longer than this is refused unread
MIN_TOKEN = 16


class ConsoleAccess:
    def __init__(self, token: str):
        self._token = token.encode("utf-8")
        self._key = hmac.new(self._token, b"dialflow console session v1",
                             hashlib.sha256).digest()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ConsoleAccess | None:
        """None (the console is off) unless the token is set."""
        token = env.get(TOKEN_ENV, "").strip()
        return cls(token) if token else None

    def token_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8", "replace"), self._token)

    def allows(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
        """Whether a request carries the token (bearer, basic) or a valid session."""
        auth = headers.get("authorization", "")
        if auth and len(auth) <= MAX_HEADER:
            scheme, _, value = auth.partition(" ")
            if scheme.lower() == "bearer" and self.token_matches(value.strip()):
                return True
            if scheme.lower() == "basic" and self.token_matches(_basic_password(value)):
                return True
        session = cookies.get(COOKIE, "")
        return bool(session) and len(session) <= MAX_HEADER and self.session_valid(session)

    # -- sessions ---------------------------------------------------------------------------
    def new_session(self, now: float | None = None) -> str:
        expiry = int((now if now is not None else time.time()) + SESSION_SECONDS)
        body = f"{expiry}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._mac(body)}"

    def session_valid(self, value: str, now: float | None = None) -> bool:
        body, _, mac = value.rpartition(".")
        if not body or not hmac.compare_digest(mac.encode("ascii", "replace"),
                                               self._mac(body).encode("ascii")):
            return False
        expiry = body.split(".", 1)[0]
        return expiry.isdigit() and int(expiry) > (now if now is not None else time.time())

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode("ascii", "replace"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _basic_password(value: str) -> str:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
    return decoded.partition(":")[2]


def cookie_header(value: str, secure: bool, max_age: int = SESSION_SECONDS) -> str:
    """The Set-Cookie value for a session (an empty `value` with max_age 0 logs out)."""
    flags = f"; Max-Age={max_age}; Path=/console; HttpOnly; SameSite=Strict"
    return f"{COOKIE}={value}{flags}{'; Secure' if secure else ''}"
