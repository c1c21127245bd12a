"""`FakeTwilioRest`: a stand-in for Twilio's Calls REST API on 127.0.0.1, for tests.

It answers `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with form params
(`Twiml`, `Status`, ...) and `POST .../Calls.json` (Calls.create: a new outbound call, kept in
`placed` for `tests/fakes/twilio_dialer.py` to answer as Twilio would), checks HTTP Basic
auth against its account sid and auth token, records every request, and returns
Twilio-shaped JSON (the call resource, or Twilio's error object). It can be told to fail
(any status, with a Twilio error code) or to hold
requests without answering until it is closed; or to hold the updates of one call
(`stall_call`) until the test lets them go on (`release_call`, answered normally or with
a failure): a slow Twilio for one call, with nothing timed. A plain `http.server` in a thread, so it
works with any event loop, real or virtual. Never touches the internet.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.local_http import ThreadedFake

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "fake-auth-token-for-tests"
_CREATE = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Calls\.json$")
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Calls/(?P<call>CA\w+)\.json$")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    account_sid: str
    call_sid: str
    form: dict[str, str]
    authorized: bool
    headers: dict[str, str] = field(repr=False)


@dataclass
class _Failure:
    status: int
    code: int
    message: str


class FakeTwilioRest(ThreadedFake):
    """Use as a context manager; `base_url` is what `TwilioRest(api_base_url=...)` takes."""

    def __init__(
        self,
        *,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        calls: tuple[str, ...] = (),
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: dict[str, str] = dict.fromkeys(calls, "in-progress")
        self.requests: list[RecordedRequest] = []
        self.placed: list[RecordedRequest] = []  # Calls.create requests, call_sid assigned
        self._lock = threading.Lock()
        self._failure: _Failure | None = None
        self._hold = False
        self._release = threading.Event()
        self.held = threading.Event()  # set once a request is being held
        self._stalled: dict[str, threading.Event] = {}  # call sid -> set when released
        self._stall_failure: dict[str, _Failure] = {}
        self.stalling = threading.Event()  # set once a stalled call's request waits

    # -- configuration ---------------------------------------------------------------------
    def fail_with(self, status: int, code: int | None = None, message: str = "") -> None:
        """Answer every following request with this HTTP status and a Twilio error body."""
        self._failure = _Failure(
            status,
            code if code is not None else 20000 + status,
            message or f"Simulated failure {status}",
        )

    def hold_requests(self) -> None:
        """Accept requests but never answer them (until `close`): a slow Twilio."""
        self._hold = True

    def stall_call(self, call_sid: str) -> None:
        """Hold every update of `call_sid` (unanswered) until `release_call`."""
        with self._lock:
            self._stalled[call_sid] = threading.Event()

    def release_call(self, call_sid: str, status: int = 200, code: int | None = None,
                     message: str = "") -> None:
        """Let `call_sid`'s held updates (and later ones) be answered: normally, or with
        this HTTP status and a Twilio error body."""
        with self._lock:
            if status != 200:
                self._stall_failure[call_sid] = _Failure(
                    status, code if code is not None else 20000 + status,
                    message or f"Simulated failure {status}")
            gate = self._stalled.pop(call_sid, None)
        if gate is not None:
            gate.set()

    def add_call(self, call_sid: str, status: str = "in-progress") -> None:
        with self._lock:
            self.calls[call_sid] = status

    def _before_stop(self) -> None:
        self._release.set()
        with self._lock:
            for gate in self._stalled.values():
                gate.set()

    # -- request handling ------------------------------------------------------------------
    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == f"Basic {expected}"

    def _answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        created = _CREATE.match(path)
        match = _PATH.match(path) or created
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        authorized = self._authorized(headers.get("authorization", ""))
        record = RecordedRequest(
            method,
            path,
            match["account"] if match else "",
            (match.groupdict().get("call") or "") if match else "",
            form,
            authorized,
            headers,
        )
        with self._lock:
            self.requests.append(record)
        if self._hold:
            self.held.set()
            self._release.wait()
            return 503, _error(503, 20503, "Fake server closed while holding the request")
        call_sid = record.call_sid
        with self._lock:
            gate = self._stalled.get(call_sid)
        if gate is not None:
            self.stalling.set()
            gate.wait()
            if self._release.is_set():
                return 503, _error(503, 20503, "Fake server closed while stalling")
        stall_failure = self._stall_failure.get(call_sid)
        if stall_failure is not None:
            return stall_failure.status, _error(stall_failure.status, stall_failure.code,
                                                stall_failure.message)
        if not authorized:
            return 401, _error(401, 20003, "Authenticate")
        if match is None or method != "POST":
            return 404, _error(404, 20404, f"The requested resource {path} was not found")
        if match["account"] != self.account_sid:
            return 403, _error(403, 20003, "Account sid does not match the credentials")
        if self._failure is not None:
            failure = self._failure
            return failure.status, _error(failure.status, failure.code, failure.message)
        if created is not None:
            return self._create(record, path)
        with self._lock:
            if match["call"] not in self.calls:
                return 404, _error(404, 20404, f"The requested resource {path} was not found")
            if form.get("Status") in ("completed", "canceled"):
                self.calls[match["call"]] = form["Status"]
            status = self.calls[match["call"]]
        return 200, self._call_resource(match["call"], status, path)

    def _create(self, record: RecordedRequest, path: str) -> tuple[int, dict[str, Any]]:
        """Calls.create: Twilio's 400 for a missing parameter, else a queued call."""
        for name in ("To", "From"):
            if not record.form.get(name):
                return 400, _error(400, 21201 if name == "To" else 21213,
                                   f"No '{name}' number is specified")
        if not (record.form.get("Url") or record.form.get("Twiml")):
            return 400, _error(400, 21205, "Url parameter is required")
        sid = f"CA{len(self.placed) + 1:032d}"
        with self._lock:
            self.calls[sid] = "queued"
            self.placed.append(dataclasses.replace(record, call_sid=sid))
        body = self._call_resource(sid, "queued", path.replace(".json", f"/{sid}.json"))
        body.update({"direction": "outbound-api", "to": record.form["To"],
                     "from": record.form["From"]})
        return 201, body

    def _call_resource(self, call_sid: str, status: str, path: str) -> dict[str, Any]:
        now = formatdate(usegmt=True)
        return {
            "sid": call_sid,
            "account_sid": self.account_sid,
            "status": status,
            "direction": "inbound",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "from": "+15550000000",
            "to": "+15550000001",
            "uri": path,
            "subresource_uris": {},
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = fake._answer(self.command, self.path, headers, body)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_POST = do_GET = _serve  # http.server dispatches on these names

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's error body."""
    return {
        "code": code,
        "message": message,
        "status": status,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
    }
