"""Changing a live call through Twilio's REST API: transfer to a human (cold: `<Dial>`; or
warm: the human rung on a leg of their own, then both in a conference: `WarmLine`), hang up.

`TwilioRest` owns the SDK client (one per process, async HTTP over aiohttp) and updates a
call (`POST /2010-04-01/Accounts/{sid}/Calls/{callSid}.json`) within a timeout; every
failure becomes a `TelephonyError` whose message names the call and the cause but never a
secret or a full phone number. `TwilioCalls` is the engine's `Telephony` port for one call.
Credentials come only from `TWILIO_ACCOUNT_SID` / `TWILIO_AUTH_TOKEN`. `api_base_url`
(or `DIALFLOW_TWILIO_API_URL`) points the SDK at another host, e.g. a local fake.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from adapters.twilio import twiml
from adapters.twilio.warm import (
    JOIN_PATH,
    STATUS_PATH,
    WHISPER_PATH,
    WarmTransfers,
    conference_name,
)
from engine.environment import DIALFLOW_TWILIO_API_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from engine.ports import WarmDial
from engine.redaction import escape_id, redact_number, redact_text

log = logging.getLogger("dialflow.twilio.rest")
_sdk_log = logging.getLogger("dialflow.twilio.sdk")  # the SDK's request dumps carry no call id
if _sdk_log.level == logging.NOTSET:
    _sdk_log.setLevel(logging.WARNING)

ACCOUNT_SID_ENV = TWILIO_ACCOUNT_SID
AUTH_TOKEN_ENV = TWILIO_AUTH_TOKEN
API_URL_ENV = DIALFLOW_TWILIO_API_URL
DEFAULT_TIMEOUT = 10.0
CALL_ALREADY_OVER = frozenset({20404, 21220})  # Twilio's codes for a call no longer live


class TwilioConfigError(RuntimeError):
    """A required setting is missing or malformed; the message names the variable."""


class TelephonyError(RuntimeError):
    """Twilio did not carry out a transfer or hang-up. The message is safe to log and to
    put in `transfer.failed {error}`; `status`/`code` are Twilio's when it answered."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TwilioCredentials:
        env = os.environ if env is None else env
        values = {}
        for name in (ACCOUNT_SID_ENV, AUTH_TOKEN_ENV):
            values[name] = env.get(name, "").strip()
            if not values[name]:
                raise TwilioConfigError(
                    f"{name} is not set; it is needed to transfer and "
                    f"hang up calls through Twilio's REST API"
                )
        if not values[ACCOUNT_SID_ENV].startswith("AC"):
            raise TwilioConfigError(f"{ACCOUNT_SID_ENV} must be an account sid (AC...)")
        return cls(values[ACCOUNT_SID_ENV], values[AUTH_TOKEN_ENV])


class TwilioRest:
    """The SDK client for call updates. Create and use it inside the running event loop
    (aiohttp sessions belong to one loop); close it with `aclose()` or `async with`."""

    def __init__(
        self,
        credentials: TwilioCredentials,
        *,
        api_base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if api_base_url is not None:
            parts = urlsplit(api_base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise TwilioConfigError(
                    f"Twilio API base url must be http(s)://host[:port], got {api_base_url!r}"
                )
        self.credentials = credentials
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None
        self.timeout = timeout
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> TwilioRest:
        env = os.environ if env is None else env
        kwargs.setdefault("api_base_url", env.get(API_URL_ENV, "").strip() or None)
        return cls(TwilioCredentials.from_env(env), **kwargs)

    def _sdk(self) -> Client:
        if self._client is None:
            self._http = AsyncTwilioHttpClient(logger=_sdk_log)
            # A non-empty `environment` keeps the SDK from reading TWILIO_EDGE/TWILIO_REGION
            # from os.environ, which would rewrite the host below.
            self._client = Client(
                self.credentials.account_sid,
                self.credentials.auth_token,
                http_client=self._http,
                environment={ACCOUNT_SID_ENV: self.credentials.account_sid},
            )
            if self.api_base_url:
                # Every v2010 URL is built as `client.api.base_url + "/2010-04-01/..."`.
                self._client.api.base_url = self.api_base_url
        return self._client

    async def update_call(
        self, call_sid: str, *, what: str, call_id: str = "", **params: str
    ) -> dict[str, Any]:
        """POST `params` (SDK names: `twiml=`, `status=`) to the call; return Twilio's
        answer as a dict. Raises `TelephonyError` on any failure, including the timeout."""
        return await self._call_api(lambda: self._sdk().calls(call_sid).update_async(**params),
                                    escape_id(call_id or call_sid), what)

    async def create_call(self, *, what: str, call_id: str = "", **params: Any
                          ) -> dict[str, Any]:
        """`Calls.create` with `params` (SDK names: `to=`, `from_=`, `url=`, `timeout=`,
        `status_callback=`); the new call's sid and status, or `TelephonyError`."""
        return await self._call_api(lambda: self._sdk().calls.create_async(**params),
                                    escape_id(call_id or "-"), what)

    async def _call_api(self, request: Any, label: str, what: str) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.timeout):
                call = await request()
        except TimeoutError:
            raise self._failed(
                label, what, f"no answer from Twilio within {self.timeout:g}s"
            ) from None
        except TwilioRestException as exc:
            code = f", code {exc.code}" if exc.code else ""
            raise self._failed(
                label,
                what,
                f"Twilio answered {exc.status}{code}: {redact_text(str(exc.msg))}",
                status=exc.status,
                code=exc.code,
            ) from None
        except (aiohttp.ClientError, OSError, ValueError, TwilioException) as exc:
            raise self._failed(
                label, what, f"{type(exc).__name__}: {redact_text(str(exc))}"
            ) from None
        return {"sid": call.sid, "status": call.status}

    @staticmethod
    def _failed(label: str, what: str, cause: str, **info: Any) -> TelephonyError:
        log.error("call %s: %s failed: %s", label, what, cause)
        return TelephonyError(f"{what} failed: {cause}", **info)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None

    async def __aenter__(self) -> TwilioRest:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@dataclass(frozen=True)
class WarmLine:
    """What a warm transfer needs beyond the REST client: where Twilio reaches our webhooks
    (`https://host`), the table the call parks in, the caller and the call's stream."""

    base_url: str
    desk: WarmTransfers
    caller: str
    stream: Any = field(repr=False)
    from_number: str = ""  # a number of ours the human's phone is rung from


class TwilioCalls:
    """The `Telephony` port (engine/ports.py) for one live call."""

    def __init__(
        self,
        rest: TwilioRest,
        call_sid: str,
        *,
        call_id: str = "",
        dial_timeout: int | None = 30,
        dial_action_url: str | None = None,
        warm_line: WarmLine | None = None,
    ) -> None:
        if not call_sid.startswith("CA"):
            raise ValueError("call_sid must be a Twilio call sid (CA...)")
        self.rest = rest
        self.call_sid = call_sid
        self.call_id = call_id or call_sid
        self.dial_timeout = dial_timeout
        self.dial_action_url = dial_action_url
        self.warm_line = warm_line

    async def transfer(self, number: str, warm: WarmDial | None = None) -> None:
        """Replace the call's TwiML with `<Dial>number</Dial>` (`warm`: ring the human's own
        leg, the caller kept on hold here); raise `TelephonyError`."""
        if warm is not None:
            return await self._warm(number, warm)
        try:
            doc = twiml.dial(number, timeout=self.dial_timeout, action=self.dial_action_url)
        except (twiml.TwimlError, RuntimeError) as exc:
            log.error(
                "call %s: transfer to %s refused: %s", self.call_id, redact_number(number), exc
            )
            raise TelephonyError(f"transfer failed: {exc}") from None
        log.info("call %s: transferring to %s", self.call_id, redact_number(number))
        await self.rest.update_call(self.call_sid, what="transfer", call_id=self.call_id,
                                    twiml=doc)
        log.info("call %s: transfer to %s accepted by Twilio", self.call_id, redact_number(number))

    async def _warm(self, number: str, warm: WarmDial) -> None:
        """Ring the human on a leg of their own while the caller stays on hold here
        (adapters/twilio/warm.py says why); the entry parked for the webhooks knows how to
        bridge the two and how to stop the ringing."""
        line = self.warm_line
        refused = ("no public URL for Twilio's webhooks" if line is None else
                   "transfer number must be E.164" if not twiml.E164.match(number or "") else
                   "no number of ours to ring the human from (set DIALFLOW_DIAL_FROM)"
                   if not twiml.E164.match(line.from_number or "") else "")
        if refused or line is None:
            raise self.rest._failed(escape_id(self.call_id), "warm transfer", refused)
        call = getattr(line.stream, "call", None)
        try:
            entry = line.desk.park(self.call_sid, line.caller, warm.whisper, line.stream,
                                   warm.ring_seconds, call.state if call is not None else "")
        except RuntimeError as exc:
            raise TelephonyError(f"transfer failed: {exc}") from None
        query = urlencode({"parent": self.call_sid})
        entry.join_url = f"{line.base_url}{JOIN_PATH}?{query}"
        log.info("call %s: ringing %s for a warm transfer (%ss)", self.call_id,
                 redact_number(number), warm.ring_seconds)
        dial = asyncio.ensure_future(self.rest.create_call(
            what="warm transfer", call_id=self.call_id, to=number, from_=line.from_number,
            url=f"{line.base_url}{WHISPER_PATH}?{query}", method="POST",
            machine_detection="Enable",  # a voicemail that picks up gets no caller
            timeout=warm.ring_seconds, status_callback=f"{line.base_url}{STATUS_PATH}?"
            f"{query}", status_callback_method="POST"))
        try:
            leg = await asyncio.shield(dial)
        except asyncio.CancelledError:
            # The flow moved on while Twilio was placing the leg: the request may already
            # have rung the human, so once it answers, stop that leg (as `stop_ringing`).
            entry.outcome = "transfer.canceled"
            entry.task = asyncio.get_running_loop().create_task(self._cancel_when_placed(dial))
            raise
        except BaseException:
            line.desk.unpark(self.call_sid, line.stream)
            raise
        entry.leg_sid = str(leg["sid"])
        entry.bridge = self._bridge
        entry.cancel_leg = functools.partial(self._cancel_leg, entry.leg_sid)
        entry.turn_away = functools.partial(self._turn_away, entry.leg_sid)

    async def _bridge(self) -> None:
        """Move the caller from the hold (our stream) into the conference."""
        await self.rest.update_call(self.call_sid, what="warm transfer bridge",
                                    call_id=self.call_id,
                                    twiml=twiml.conference(conference_name(self.call_sid)))

    def stop_ringing(self) -> None:
        """The flow left the ringing state before any outcome: cancel the human's leg (in
        the background), so nobody picks up to a hang-up."""
        line = self.warm_line
        entry = line.desk.get(self.call_sid) if line is not None else None
        if entry is None or line is None or entry.stream is not line.stream or entry.settled:
            return
        entry.outcome = "transfer.canceled"  # a late whisper, join or status is a no-op
        if entry.cancel_leg is not None:
            log.info("call %s: the flow moved on while the human was rung; stopping the "
                     "ringing", self.call_id)
            entry.task = asyncio.get_running_loop().create_task(entry.cancel_leg())

    async def _cancel_when_placed(self, dial: asyncio.Future[Any]) -> None:
        try:
            leg = await dial
        except Exception:  # not placed: nothing rings
            return
        log.info("call %s: the flow moved on while the human's leg was placed; stopping it",
                 self.call_id)
        try:
            await self._cancel_leg(str(leg["sid"]))
        except TelephonyError as exc:
            log.warning("call %s: could not stop the human's leg: %s", self.call_id, exc)

    async def _turn_away(self, leg: str, message: str) -> None:
        """The human is in the conference but the caller could not be moved there: tell
        them why and hang up their leg (raises `TelephonyError`)."""
        await self.rest.update_call(leg, what="warm transfer roll-back", call_id=self.call_id,
                                    twiml=twiml.busy(message))

    async def _cancel_leg(self, leg: str) -> None:
        """Stop the human's phone: `canceled` while it rings, else `completed`."""
        for status in ("canceled", "completed"):
            try:
                await self.rest.update_call(leg, what="warm transfer cancel",
                                            call_id=self.call_id, status=status)
                return
            except TelephonyError as exc:
                if exc.code in CALL_ALREADY_OVER and status == "completed":
                    return

    async def hang_up(self) -> None:
        """End the call (`Status=completed`); raise `TelephonyError` if Twilio refuses. A call
        Twilio no longer has in progress (20404 not found, 21220 not in progress) is already
        over, which is what a hang-up wants."""
        log.info("call %s: hanging up", self.call_id)
        try:
            await self.rest.update_call(
                self.call_sid, what="hang-up", call_id=self.call_id, status="completed"
            )
        except TelephonyError as exc:
            if exc.code not in CALL_ALREADY_OVER:
                raise
            log.info("call %s: the call was already over (Twilio %s)", self.call_id, exc.code)
