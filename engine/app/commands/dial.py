"""`dialflow dial NUMBER --flow reminders.yaml [--var name=value ...]`: place one outbound call
through Twilio's REST API and serve it.

It checks everything it can before anything starts — the number (E.164), each `--var`
against the flow's `vars:`, Twilio's credentials, the number to call from and the public
URL Twilio reaches this machine at (`DIALFLOW_PUBLIC_URL`, e.g. a tunnel to `--port`) —
each failure one line and exit 2. Then it starts the phone server in-process on the flow,
asks Twilio to place the call with answering-machine detection, serves the media stream
the call connects to (the same one inbound calls use) and exits when the call ends, with
who answered and where the flow ended. A refusal from Twilio is one line, exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

from engine.environment import DIALFLOW_DIAL_FROM, DIALFLOW_PUBLIC_URL

ANSWER_WAIT = 120.0  # seconds for Twilio to ring, and the call to start its stream


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dial", help="place an outbound call (appointment reminders)",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("number", help="the number to call, E.164 (+15551234567)")
    parser.add_argument("--flow", default="flows.yaml", help="the flow the call runs")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="a variable the flow declares under vars: (repeatable)")
    parser.add_argument("--from", dest="from_number", default=None,
                        help=f"the Twilio number to call from (default: ${DIALFLOW_DIAL_FROM})")
    parser.add_argument("--detect", choices=("DetectMessageEnd", "Enable", "off"),
                        default="DetectMessageEnd",
                        help="Twilio's answering-machine detection (DetectMessageEnd waits "
                        "for the beep)")
    parser.add_argument("--host", default="127.0.0.1", help="where the in-process server listens")
    parser.add_argument("--port", type=int, default=8000)
    parser.set_defaults(func=run)


def preflight(args: argparse.Namespace, env: Any) -> str:
    """'' when the call can be tried, else the one line that says why not."""
    from adapters.twilio.dialing import DialError, check_number
    from adapters.twilio.rest import (
        ACCOUNT_SID_ENV,
        AUTH_TOKEN_ENV,
        TwilioConfigError,
        TwilioCredentials,
    )
    from adapters.twilio.urls import PublicUrlError, configured_public_url
    from engine.app.outbound.call_vars import VarError, check_vars, parse_pairs
    from flows import load_flow

    try:
        check_number(args.number, "the number to call")
        check_vars(load_flow(args.flow), parse_pairs(args.var))
        try:
            TwilioCredentials.from_env(env)
        except TwilioConfigError as exc:
            return (str(exc).split(";")[0] + ": placing a call needs Twilio's REST credentials "
                    f"({ACCOUNT_SID_ENV}, {AUTH_TOKEN_ENV})")
        check_number(args.from_number or env.get(DIALFLOW_DIAL_FROM, "").strip(),
                     f"the number to call from (--from or {DIALFLOW_DIAL_FROM})")
        if not configured_public_url(env):
            return (f"{DIALFLOW_PUBLIC_URL} is not set: Twilio needs the https:// address "
                    f"that reaches this machine's port {args.port} (e.g. a tunnel)")
    except (DialError, VarError, PublicUrlError) as exc:
        return str(exc)
    return ""


def run(args: argparse.Namespace) -> int:
    problem = preflight(args, os.environ)
    if problem:
        print(f"dialflow dial: {problem}", file=sys.stderr)
        return 2
    return asyncio.run(main(args))


async def main(args: argparse.Namespace) -> int:
    import uvicorn

    from engine.app.outbound.call_vars import parse_pairs
    from engine.app.outbound.desk import desk_for
    from engine.app.server.app import create_app
    from engine.app.server.bootstrap import build_services, warm

    services = build_services(args.flow)
    detection = None if args.detect == "off" else args.detect
    services.outbound = desk_for(services, os.environ, args.from_number, detection)
    print("starting the server in-process (loading models)…", flush=True)
    await warm(services)
    from engine.app.server.ws_protocol import media_ws_protocol

    config = uvicorn.Config(create_app(services), host=args.host, port=args.port,
                            log_level="warning", lifespan="on", ws_per_message_deflate=False,
                            ws=media_ws_protocol())
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    try:
        return await place_and_wait(services, args.number, parse_pairs(args.var))
    finally:
        server.should_exit = True
        await task


async def place_and_wait(services: Any, number: str, given: dict[str, str],
                         answer_wait: float = ANSWER_WAIT) -> int:
    """Place the call through the server's desk and wait until it is over (or never
    answered); print what happened. 0 when the call ran, 1 when it could not be placed."""
    from adapters.twilio.dialing import DialError
    from engine.app.outbound.call_vars import VarError
    from engine.redaction import redact_number

    try:
        dial = await services.outbound.dial(number, given)
    except (DialError, VarError) as exc:
        print(f"dialflow dial: {exc}", file=sys.stderr)
        return 1
    print(f"CALL    {dial.call_sid} placed to {redact_number(number)}", flush=True)
    deadline = time.monotonic() + answer_wait
    while dial.stream is None:
        if dial.unanswered:
            print(f"CALL    not answered: Twilio says {dial.unanswered}")
            return 0
        if time.monotonic() > deadline:
            print(f"CALL    not answered within {answer_wait:g} s")
            return 0
        await asyncio.sleep(0.05)
    stream = dial.stream
    while stream in services.streams or (stream.call is not None and not stream.call.ended):
        await asyncio.sleep(0.05)
    call = stream.call
    answered = dial.answer[0] if dial.answer else "-"
    for entry in call.trace.entries if call is not None else ():
        if entry.event == "call.answered_by":
            answered = str(entry.data.get("answered_by", answered))
    print(f"CALL    answered by {answered}; the flow ended in {call.state if call else '-'}")
    return 0
