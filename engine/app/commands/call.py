"""`dialflow call [--url URL]`: place a simulated phone call as Twilio would.

Without `--url` it starts the server in-process (offline providers when no keys are set)
and calls it. The caller's lines come from `--say` (repeatable), a `--script` file (one line
per turn; `dtmf:0` presses keys, `wav:file.wav` plays a recording), or are typed
interactively; each is spoken with the local piper voice and sent as paced mu-law frames.
Prints the conversation with per-turn latency (end of caller audio to first agent frame);
`--record call.wav` saves both sides as a stereo WAV.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import socket
import statistics
import sys
from pathlib import Path
from typing import Any

from engine.environment import TWILIO_AUTH_TOKEN

DEFAULT_LINES = (
    "Hi, what time do you close on Thursday?",
    "I'd like to book a cleaning next Thursday at 5 PM. My name is Ana Lopez.",
    "Yes, please.",
    "No, that's all. Thank you, bye.",
)
log = logging.getLogger("dialflow.call")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("call", help="place a simulated phone call",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one in-process)")
    parser.add_argument("--auth-token", default=os.environ.get(TWILIO_AUTH_TOKEN),
                        help="Twilio auth token the server checks (default: $TWILIO_AUTH_TOKEN)")
    parser.add_argument("--flow", default="flows.yaml", help="flow for the in-process server")
    parser.add_argument("--say", action="append", help="a caller line (repeatable)")
    parser.add_argument("--script", help="a file with one caller line per line")
    parser.add_argument("--interactive", action="store_true", help="type the caller's lines")
    parser.add_argument("--caller", default="+15550001111", help="the caller id")
    parser.add_argument("--record", help="save both sides to this stereo WAV")
    parser.set_defaults(func=run)


def caller_lines(args: argparse.Namespace) -> list[str] | None:
    if args.say:
        return list(args.say)
    if args.script:
        text = Path(args.script).read_text(encoding="utf-8")
        return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if args.interactive:
        return None
    return list(DEFAULT_LINES)


def run(args: argparse.Namespace) -> int:
    logging.getLogger("dialflow").setLevel(logging.WARNING)
    logging.getLogger("dialflow.runner").setLevel(logging.INFO)  # its notes join the transcript
    return asyncio.run(main(args))


async def main(args: argparse.Namespace) -> int:
    from adapters.local.tts import LocalPiperTts

    voice = LocalPiperTts(steady=True)  # the caller says each line the same way every run
    if args.url:
        if not args.auth_token:
            print("--auth-token (or TWILIO_AUTH_TOKEN) is needed to sign the call",
                  file=sys.stderr)
            return 2
        return await converse(args, args.url, args.auth_token, voice, None)
    return await in_process(args, voice)


async def in_process(args: argparse.Namespace, voice: object) -> int:
    import uvicorn

    from engine.app.callsim.session import RecordingTts
    from engine.app.server.app import create_app
    from engine.app.server.bootstrap import build_services, warm

    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    env[TWILIO_AUTH_TOKEN] = token
    print("starting the server in-process (loading models)…", flush=True)
    services = build_services(args.flow, env=env)
    services.tts = RecordingTts(services.tts)
    await warm(services)
    print("providers: " + ", ".join(f"{k}={v}" for k, v in services.describe().items()))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from engine.app.server.ws_protocol import media_ws_protocol

    config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on", ws_per_message_deflate=False,
                            ws=media_ws_protocol())
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        return await converse(args, f"http://127.0.0.1:{port}", token, voice,
                              lambda: list(services.tts.lines), services)
    finally:
        server.should_exit = True
        await task


async def converse(args: argparse.Namespace, base_url: str, token: str, voice: object,
                   agent_lines: object, services: Any = None) -> int:
    from adapters.twilio.caller import SimulatedCaller
    from engine.app.callsim.heard_progress import ProgressiveHeardWords
    from engine.app.callsim.narrator import Narrator, NoteHandler, Screen, SpokenLines
    from engine.app.callsim.recorder import Recorder
    from engine.app.callsim.session import CallSimulation, Line, place_call, server_busy
    from engine.app.callsim.typed import TypedLines

    call_sid = "CA" + secrets.token_hex(16)
    stream_url, params = await place_call(base_url, token, args.caller, call_sid)
    local_url = base_url.replace("http", "ws", 1).rstrip("/") + "/ws/media"
    connect_url = stream_url if args.url else local_url
    screen = Screen(asyncio.get_running_loop().time())
    latencies: list[float] = []
    notes = NoteHandler(screen)
    runner_log = logging.getLogger("dialflow.runner")
    runner_log.addHandler(notes)
    runner_log.propagate = False  # shown in the transcript instead of as log lines
    if agent_lines is None:
        screen.show("NOTE", "the agent's lines are transcribed from its audio by the offline "
                            "whisper model, so they may differ from what it meant to say")

    async with SimulatedCaller(connect_url, auth_token=token, signed_url=stream_url,
                               caller=args.caller, call_sid=call_sid,
                               custom_parameters=params) as caller:
        recorder = Recorder(caller)
        recorder.start()
        busy = None if services is None else (lambda: server_busy(services))
        sim = CallSimulation(caller, voice, agent_lines, busy)  # type: ignore[arg-type]
        sounds = None if services is None else (lambda: list(services.tts.sounds))
        words = ProgressiveHeardWords() if agent_lines is None else SpokenLines(agent_lines, sounds)  # type: ignore[arg-type]
        waiting = [False]  # a caller line was sent and its answer has not started yet

        def latency_note() -> str:
            if not waiting[0] or sim.last_latency is None:
                return ""
            waiting[0] = False
            return f"   [turn latency {sim.last_latency:.2f} s]"

        narrator = Narrator(caller, screen, words, latency_note)
        narrator.start()
        try:
            await sim.greeting()
            lines = caller_lines(args)
            typed = TypedLines() if lines is None else None
            index = 0
            while not caller.closed:
                if typed is not None:
                    screen.ask("you> ")
                    text = await typed.next(caller.wait_closed())
                    screen.answered()
                    if text is None or not text.strip():
                        if text is None and caller.closed:
                            sys.stdout.write("\n")
                        break
                    line = Line.parse(text)
                elif index < len(lines):  # type: ignore[arg-type]
                    line = Line.parse(lines[index])  # type: ignore[index]
                    index += 1
                else:
                    break
                await narrator.settle()
                screen.show("CALLER", line.value if line.kind == "say"
                            else f"[{line.kind} {line.value}]")
                sim.last_latency, waiting[0] = None, True
                try:
                    turn = await sim.play(line)
                except ConnectionError:
                    break  # the agent hung up while the caller was speaking
                if turn.latency is not None:
                    latencies.append(turn.latency)
                elif not caller.closed:
                    screen.show("", "[no answer]")
            ended_by_agent = caller.closed
            await narrator.stop()
            if ended_by_agent:
                screen.show("CALL", "the agent hung up")
        finally:
            runner_log.removeHandler(notes)
            runner_log.propagate = True
        await recorder.stop()
    if latencies:
        print(f"turns: {len(latencies)}, latency p50 {statistics.median(latencies):.2f} s, "
              f"max {max(latencies):.2f} s (end of caller audio -> first agent frame, "
              "including the end-of-turn silence)")
    if args.record:
        seconds = recorder.save(args.record)
        print(f"recorded {seconds:.1f} s of both sides to {args.record}")
    return 0
