"""`OutboundDesk`: the outbound calls one server is placing, from the REST request to the end
of their media stream.

`dial` checks the number and the `--var`s, records a `Dial` under a random id (bounded in
number and age), and asks Twilio to place the call with our signed webhook
(`/webhook/outbound?dial=<id>`) and answering-machine callback as its URLs. When Twilio's
webhook comes (`answered`), the dial learns its CallSid; the stream whose `start` is bound to
that CallSid then runs the dial's flow (`machine_for`) with its variables (`attach`).
Twilio's detection result (`detected`) becomes `call.answered_by` on that call, or waits for
the call to start if it came first. Touches only its own table and the calls it is given,
and, under `serve --workers N`, its own entries in the call registry (`owners`,
engine/app/server/call_owners.py): the worker that placed a dial is its home, where Twilio's
callbacks for it are decided (`dial:<id>`, `placed:<CallSid>`); a stream that starts on
another worker takes the dial's variables and any detection result from the home
(`hand_over` there, `adopt_elsewhere` here), and later results are sent on to it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from adapters.twilio.dialing import DialError, check_number, normalise_answer, place_call
from adapters.twilio.rest import TwilioRest
from engine.app.outbound.call_vars import check_vars
from engine.app.outbound.callbacks import claim_from
from engine.environment import DIALFLOW_DIAL_FROM
from engine.machine import FlowMachine
from engine.redaction import escape_id, redact_number

log = logging.getLogger("dialflow.outbound")
WEBHOOK_PATH = "/webhook/outbound"
AMD_PATH = "/webhook/outbound/amd"
STATUS_PATH = "/webhook/outbound/status"
UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})  # Twilio's CallStatus
MAX_PENDING = 100
DIAL_TTL = 600.0  # seconds a placed call has to be answered and start its stream


@dataclass
class Dial:
    """One outbound call: where it goes, the flow and variables it runs with."""

    dial_id: str
    to: str
    machine: FlowMachine = field(repr=False)
    vars: dict[str, Any]
    created: float
    call_sid: str = ""
    answer: tuple[str, str] | None = None  # (normalised, Twilio's) before the stream began
    stream: Any = field(default=None, repr=False)
    unanswered: str = ""  # Twilio's final CallStatus when nobody picked up (busy, no-answer…)
    held_by: int | None = None  # the other worker whose stream runs this dial's call
    home: bool = True  # placed here (False: adopted from the worker that placed it)


class OutboundDesk:
    def __init__(self, rest: TwilioRest | None, machine: Callable[[], FlowMachine], *,
                 from_number: str, base_url: str, detection: str | None = "DetectMessageEnd",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rest = rest
        self.machine = machine  # the flow outbound calls run (the current version)
        self.from_number = from_number
        self.base_url = base_url.rstrip("/")
        self.detection = detection
        self.clock = clock
        self.dials: dict[str, Dial] = {}
        self.owners: Any = None  # CallOwners under `serve --workers N`

    def prepare(self, to: str, given: dict[str, Any]) -> Dial:
        """Check the number and variables; record the dial. Raises `DialError`/`VarError`."""
        check_number(to, "the number to call")
        machine = self.machine()
        values = check_vars(machine.flow, given)
        self._expire()
        if sum(d.home and d.held_by is None for d in self.dials.values()) >= MAX_PENDING:
            raise DialError(f"{MAX_PENDING} outbound calls are already being placed")
        dial = Dial(secrets.token_urlsafe(16), to, machine, values, self.clock())
        self.dials[dial.dial_id] = dial
        self._own(f"dial:{dial.dial_id}")
        return dial

    def _own(self, key: str) -> None:
        if self.owners is not None:
            self.owners.claim(key)

    def _bind(self, dial: Dial, call_sid: str) -> None:
        if call_sid and dial.call_sid != call_sid:
            dial.call_sid = call_sid
            if dial.home:
                self._own(f"placed:{call_sid}")

    def _drop(self, dial_id: str) -> None:
        dial = self.dials.pop(dial_id, None)
        if dial is not None and dial.home and self.owners is not None:
            self.owners.release(f"dial:{dial_id}")
            if dial.call_sid:
                self.owners.release(f"placed:{dial.call_sid}")

    async def dial(self, to: str, given: dict[str, Any]) -> Dial:
        """Place the call; the returned dial has Twilio's CallSid. Raises `DialError`."""
        if self.rest is None:
            raise DialError("no Twilio credentials are configured, so no call can be placed")
        dial = self.prepare(to, given)
        query = urlencode({"dial": dial.dial_id})
        try:
            sid = await place_call(
                self.rest, to=to, from_=self.from_number,
                url=f"{self.base_url}{WEBHOOK_PATH}?{query}",
                amd_url=f"{self.base_url}{AMD_PATH}?{query}", detection=self.detection,
                status_url=f"{self.base_url}{STATUS_PATH}?{query}")
        except BaseException:
            self._drop(dial.dial_id)
            raise
        if not dial.call_sid:
            self._bind(dial, sid)
        return dial

    def answered(self, dial_id: str, call_sid: str, to: str) -> Dial | None:
        """Twilio's signed webhook for this dial: the dial, now bound to `call_sid`, or
        None when it is unknown, expired, for another number or another call."""
        self._expire()
        dial = self.dials.get(dial_id)
        if dial is None or dial.to != to or dial.call_sid not in ("", call_sid):
            log.warning("call %s: outbound webhook for no dial we placed", escape_id(call_sid))
            return None
        self._bind(dial, call_sid)
        return dial

    def _by_sid(self, call_sid: str) -> Dial | None:
        return next((d for d in self.dials.values() if call_sid and d.call_sid == call_sid),
                    None)

    def machine_for(self, call_sid: str, default: FlowMachine) -> FlowMachine:
        dial = self._by_sid(call_sid)
        return dial.machine if dial is not None else default

    def attach(self, stream: Any) -> None:
        """The stream of a dial began: give its call the variables (before call.started is
        handled) and any detection result that came first (just after)."""
        dial = self._by_sid(stream.session.call_sid)
        if dial is None or stream.call is None:
            return
        dial.stream = stream
        stream.call.vars.update(dial.vars)
        log.info("call %s: outbound call to %s", stream.call_id, redact_number(dial.to))
        if dial.answer is not None:
            asyncio.get_running_loop().call_soon(self._post, stream, dial.answer)

    def held_by(self, call_sid: str) -> int | None:
        """The other worker whose stream runs the call of this dial, if any."""
        dial = self._by_sid(call_sid)
        return dial.held_by if dial is not None else None

    def hand_over(self, call_sid: str, worker: int) -> dict[str, Any] | None:
        """A stream for this dial's call started on `worker`: what it needs (the number,
        the variables, a detection result that came first), once; None when unknown."""
        dial = self._by_sid(call_sid)
        if dial is None or not dial.home or dial.stream is not None \
                or dial.held_by is not None:
            return None
        dial.held_by = worker
        return {"to": dial.to, "vars": dial.vars, "answer": dial.answer}

    async def adopt_elsewhere(self, call_sid: str, routing: Any) -> None:
        """The stream starting here is for a dial another worker placed: bring its
        variables and detection result here (nothing when no other worker placed it)."""
        if self._by_sid(call_sid) is not None:
            return
        index = routing.owners.elsewhere(f"placed:{call_sid}")
        if index is None:
            return
        given = await claim_from(routing, index, call_sid)
        if given is None:
            return
        machine = self.machine()
        try:
            values = check_vars(machine.flow, given["vars"])
        except ValueError as exc:  # the flows of two workers differ (a reload between)
            log.error("call %s: the variables of a dial placed by worker %d do not fit this "
                      "flow: %s", escape_id(call_sid), index, escape_id(str(exc), 200))
            values = {}
        dial = Dial(secrets.token_urlsafe(16), given["to"], machine, values, self.clock(),
                    call_sid=call_sid, answer=given["answer"], home=False)
        self.dials[dial.dial_id] = dial
        log.info("call %s: outbound call placed by worker %d runs here", escape_id(call_sid),
                 index)

    def detected(self, call_sid: str, answered_by: str) -> bool:
        """Twilio's answering-machine result for a dial; False when no dial has that sid."""
        dial = self._by_sid(call_sid)
        if dial is None:
            return False
        answer = (normalise_answer(answered_by), answered_by[:40])
        if dial.stream is not None:
            self._post(dial.stream, answer)
        else:
            dial.answer = answer
        return True

    def status(self, dial_id: str, call_sid: str, status: str) -> None:
        """Twilio's status callback: a call nobody picked up is over for its dial."""
        dial = self.dials.get(dial_id)
        if dial is None or dial.call_sid != call_sid:
            return
        if status in UNANSWERED:
            dial.unanswered = status
            self._drop(dial_id)
        elif status == "completed" and dial.held_by is not None:
            self._drop(dial_id)  # its call ran, and ended, on another worker

    @staticmethod
    def _post(stream: Any, answer: tuple[str, str]) -> None:
        if stream.call is not None:
            stream.call.post("call.answered_by", answered_by=answer[0], detail=answer[1])

    def ended(self, stream: Any) -> None:
        for dial_id, dial in list(self.dials.items()):
            if dial.stream is stream:
                self._drop(dial_id)

    def _expire(self) -> None:
        now = self.clock()
        for dial_id, dial in list(self.dials.items()):
            if dial.stream is None and now - dial.created > DIAL_TTL:
                self._drop(dial_id)


def desk_for(services: Any, env: Any, from_number: str | None = None,
             detection: str | None = "DetectMessageEnd") -> OutboundDesk | None:
    """The desk of a server, or None (outbound calls off) without Twilio credentials, a
    public URL (`DIALFLOW_PUBLIC_URL`, where Twilio reaches our webhooks) or a number to
    call from (`DIALFLOW_DIAL_FROM`). Outbound calls run the server's own flow."""
    number = from_number or env.get(DIALFLOW_DIAL_FROM, "").strip()
    base = services.signatures.settings.public_url
    if services.twilio is None or not base or not number:
        return None
    return OutboundDesk(services.twilio, services.flows.current, from_number=number,
                        base_url=base, detection=detection)
