"""Server CPU per inbound media frame, in one process, with no network and no callers.

    python -m bench.inbound_frame_bench [--streams 20] [--frames 20000] [--ws lean wsproto]

The real app (`create_app`, the fake providers of bench/fake_server.py) behind a real uvicorn
WebSocket protocol, on a recording transport: each stream does the signed handshake and a
bound `start`, its greeting plays out, then the streams are fed Twilio media frames of
silence round-robin, one frame per `data_received` (as a quiet server reads them), the loop
run after each (so a woken task runs, as it would). Prints the CPU per frame (the best of
`--repeat` rounds, minus the same loop with no frame, so load on a shared machine moves it
less than it moves `server_bench`), what that is per call-second (50 frames) and, with
`--no-stt`, the share of the fake STT's own `feed` (a real deployment pays its own STT
instead). `--profile FILE` writes cProfile stats of one round.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from uvicorn.lifespan.on import LifespanOn  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from adapters.twilio.binding import BINDING_PARAM, make_binding  # noqa: E402
from adapters.twilio.signature import SignatureChecker, SignatureSettings, sign  # noqa: E402
from engine.app.server.app import create_app  # noqa: E402
from engine.app.server.flow_source import FlowSource  # noqa: E402
from engine.app.server.lean_ws import LeanWebSocketProtocol  # noqa: E402
from engine.app.server.services import Services  # noqa: E402
from engine.transcripts import TranscriptStore  # noqa: E402
from tests.fakes.providers import CannedBrain, EnergyStt, ToneTts  # noqa: E402
from tools.builtin import build_registry  # noqa: E402
from tools.storage import Storage  # noqa: E402

TOKEN = "bench-token"
HOST = "127.0.0.1:8000"
MASK = b"\x11\x22\x33\x44"
SILENCE = bytes([0xFF]) * 160


class Wire(asyncio.Transport):
    """A transport that keeps nothing: the server's writes are dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def write(self, data: Any) -> None:
        self.written += len(data)

    def close(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def client_frame(text: str) -> bytes:
    data = text.encode()
    n = len(data)
    head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(data))
    return head + MASK + masked


def protocol_class(name: str) -> Any:
    """The lean protocol, or one of uvicorn's by its `--ws` name."""
    if name == "lean":
        return LeanWebSocketProtocol
    config = uvicorn.Config(lambda scope, receive, send: None, ws=name)  # type: ignore[arg-type, return-value]
    config.load()
    return config.ws_protocol_class


class Stream:
    def __init__(self, index: int) -> None:
        self.call_sid = f"CA{index:032d}"
        self.stream_sid = f"MZ{index:032d}"
        self.seq = 0
        self.chunk = 0

    def request(self) -> bytes:
        url = f"ws://{HOST}/ws/media"
        return (f"GET /ws/media HTTP/1.1\r\nhost: {HOST}\r\nupgrade: websocket\r\n"
                f"connection: Upgrade\r\nsec-websocket-key: {base64.b64encode(b'k' * 16).decode()}"
                f"\r\nsec-websocket-version: 13\r\nx-twilio-signature: {sign(TOKEN, url)}"
                "\r\n\r\n").encode()

    def opening(self) -> list[bytes]:
        params = {"caller": "+15550001234", "callSid": self.call_sid}
        params[BINDING_PARAM] = make_binding(TOKEN, self.call_sid, params["caller"],
                                             time.time())
        start = {"event": "start", "sequenceNumber": "1", "streamSid": self.stream_sid,
                 "start": {"accountSid": "AC" + "0" * 32, "streamSid": self.stream_sid,
                           "callSid": self.call_sid, "tracks": ["inbound"],
                           "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                           "channels": 1}, "customParameters": params}}
        self.seq = 1
        return [client_frame(json.dumps({"event": "connected", "protocol": "Call",
                                         "version": "1.0.0"})),
                client_frame(json.dumps(start))]

    def media(self) -> bytes:
        self.seq += 1
        self.chunk += 1
        return client_frame(json.dumps({
            "event": "media", "sequenceNumber": str(self.seq),
            "media": {"track": "inbound", "chunk": str(self.chunk),
                      "timestamp": str(self.chunk * 20),
                      "payload": base64.b64encode(SILENCE).decode()},
            "streamSid": self.stream_sid}))


async def until(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the bench's streams did not get going")
        await asyncio.sleep(0.01)


async def measure(args: argparse.Namespace, ws: str) -> dict[str, float]:
    stt = EnergyStt([], latency=0.0)
    services = Services(
        flows=FlowSource(ROOT / "flows.yaml"), stt=stt, tts=ToneTts(), brain=CannedBrain(),
        registry=build_registry(), storage=Storage("sqlite:///:memory:"),
        transcripts=TranscriptStore(tempfile.mkdtemp(prefix="bench-transcripts-")),
        signatures=SignatureChecker(SignatureSettings(auth_token=TOKEN)))
    config = uvicorn.Config(create_app(services), ws_per_message_deflate=False,
                            ws_ping_interval=None, log_level="error", lifespan="on",
                            ws_max_size=services.limits.transport_max_bytes)
    config.load()
    lifespan = LifespanOn(config)
    await lifespan.startup()
    cls = protocol_class(ws)
    state = ServerState()
    streams, protocols = [Stream(i) for i in range(args.streams)], []
    for stream in streams:
        protocol = cls(config=config, server_state=state, app_state={})
        protocol.connection_made(Wire())
        protocol.data_received(stream.request())
        await until(lambda p=protocol: getattr(p, "handshake_complete", None) or (
            getattr(p, "handshake_completed_event", None) is not None
            and p.handshake_completed_event.is_set()))
        for message in stream.opening():
            protocol.data_received(message)
        protocols.append(protocol)
    await until(lambda: len(stt.sessions) == args.streams)
    await asyncio.sleep(args.settle)  # the greetings play out; then only frames come in
    if args.no_stt:
        for session in stt.sessions:
            session.feed = lambda ulaw: None  # type: ignore[method-assign]
    pairs = list(zip(streams, protocols, strict=True))
    frames = [[s.media() for _ in range(args.frames // args.streams)] for s in streams]
    best, empty = float("inf"), float("inf")
    profile = cProfile.Profile() if args.profile else None
    for round_ in range(args.repeat):
        start = time.process_time()
        for _ in range(args.frames // args.streams):
            for _ in pairs:
                await asyncio.sleep(0)
        empty = min(empty, time.process_time() - start)
        if profile is not None and round_ == args.repeat - 1:
            profile.enable()
        start = time.process_time()
        for i in range(args.frames // args.streams):
            for index, (_, protocol) in enumerate(pairs):
                protocol.data_received(frames[index][i])
                await asyncio.sleep(0)
        best = min(best, time.process_time() - start)
        if profile is not None and round_ == args.repeat - 1:
            profile.disable()
            profile.dump_stats(f"{args.profile}.{ws}")
        frames = [[s.media() for _ in range(args.frames // args.streams)] for s in streams]
    taken = sum(stream.session.media_frames for stream in services.streams)
    for protocol in protocols:
        protocol.connection_lost(None)
    await until(lambda: not state.tasks)
    await lifespan.shutdown()
    count = (args.frames // args.streams) * args.streams
    return {"us_per_frame": (best - empty) / count * 1e6, "frames_seen": float(taken),
            "frames_fed": float(count * args.repeat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--frames", type=int, default=20_000, help="frames per round")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--settle", type=float, default=4.0,
                        help="seconds for the greetings to play out before measuring")
    parser.add_argument("--ws", nargs="+", default=["lean", "websockets-sansio"])
    parser.add_argument("--no-stt", action="store_true",
                        help="the fake STT's feed does nothing (what the fake itself costs)")
    parser.add_argument("--profile", metavar="FILE")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # a line per handshake from uvicorn and websockets
    for ws in args.ws:
        figures = asyncio.run(measure(args, ws))
        if figures["frames_seen"] < 0.99 * figures["frames_fed"]:
            raise SystemExit(f"--ws {ws}: only {figures['frames_seen']:.0f} of "
                             f"{figures['frames_fed']:.0f} frames reached the calls")
        print(f"--ws {ws}{' (fake STT feed off)' if args.no_stt else ''}: "
              f"{figures['us_per_frame']:.1f} µs of CPU per inbound media frame (best of "
              f"{args.repeat} rounds of {args.frames} frames over {args.streams} streams) = "
              f"{figures['us_per_frame'] * 50 / 1000:.2f} ms per call-second of inbound "
              f"audio alone")
    print("load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
          + " (shared machine: CPU time per frame moves less with load than wall time)")


if __name__ == "__main__":
    main()
