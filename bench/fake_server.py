"""A dialflow server process with fake providers, for `bench/server_bench.py`.

    python -m bench.fake_server --port 8765 --stats stats.json [--workers N]

Serves the default flow with the tone TTS, the energy STT and a canned brain (optionally
with provider latencies), writes call transcripts as `dialflow serve` does (to a temporary
directory) and, with `--event-logs DIR`, each call's event log under DIR/calls; on SIGTERM
writes its raw measurements to `--stats`: per-turn engine latency (caller's end of turn ->
first agent frame sent) and outbound pacing jitter (and, with `--profile FILE`, its cProfile
stats).
With `--workers N` it runs under the same supervisor as `dialflow serve --workers N` (N
processes on the port, each writing `--stats` + `.<worker index>`).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import shutil
import sys
import tempfile
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.twilio.bridge.stream import MediaStream  # noqa: E402
from adapters.twilio.signature import SignatureChecker, SignatureSettings  # noqa: E402
from engine.app.commands.serve import freeze_startup_heap, run_fast, serve_as_worker  # noqa: E402
from engine.app.server.app import create_app  # noqa: E402
from engine.app.server.flow_source import FlowSource  # noqa: E402
from engine.app.server.lean_ws import LeanWebSocketProtocol  # noqa: E402
from engine.app.server.services import Services  # noqa: E402
from engine.app.server.workers import Supervisor  # noqa: E402
from engine.records.privacy import DataDirs  # noqa: E402
from engine.records.recorder import CallRecords  # noqa: E402
from engine.transcripts import TranscriptStore  # noqa: E402
from tests.fakes.providers import CannedBrain, EnergyStt, ToneTts  # noqa: E402
from tools.builtin import build_registry  # noqa: E402
from tools.storage import Storage  # noqa: E402

AUTH_TOKEN = "bench-token"


class QuietServer(uvicorn.Server):
    """Stops on SIGTERM without re-raising it, so the stats can be written afterwards."""

    def handle_exit(self, sig: int, frame: object) -> None:
        self.should_exit = True


def serve_one(args: argparse.Namespace, slot: object = None) -> int:
    """One server process; `slot` when it is a worker of the supervisor."""
    stats = args.stats if slot is None else f"{args.stats}.{slot.index}"  # type: ignore[attr-defined]
    turns: list[float] = []
    transcripts = tempfile.mkdtemp(prefix="bench-transcripts-")
    jitter: list[float] = []
    services = Services(
        flows=FlowSource(ROOT / "flows.yaml"),
        stt=EnergyStt(["What time do you close today?"] * 100_000, latency=args.stt_latency),
        tts=ToneTts(latency=args.tts_latency), brain=CannedBrain(latency=args.llm_latency),
        registry=build_registry(), storage=Storage("sqlite:///:memory:"),
        transcripts=TranscriptStore(transcripts),
        records=CallRecords(DataDirs.from_env({}, root=args.event_logs))
        if args.event_logs else None,
        signatures=SignatureChecker(SignatureSettings(auth_token=AUTH_TOKEN)))
    services.metrics.turn_latency = turns.append  # type: ignore[method-assign]
    stages: dict[str, list[float]] = {}
    services.metrics.stage = (  # type: ignore[method-assign]
        lambda name, seconds: stages.setdefault(name, []).append(seconds))
    original_teardown = MediaStream._teardown

    async def teardown(self: MediaStream) -> None:
        if self.outbound is not None:
            jitter.extend(self.outbound.jitter)
        await original_teardown(self)

    MediaStream._teardown = teardown  # type: ignore[method-assign]
    config = uvicorn.Config(create_app(services), host=args.host, port=args.port,
                            log_level="error", lifespan="on", ws_per_message_deflate=False,
                            ws_max_size=services.limits.transport_max_bytes,
                            ws=LeanWebSocketProtocol if args.ws == "lean" else args.ws)
    server = QuietServer(config)
    freeze_startup_heap()
    profile = cProfile.Profile() if args.profile else None
    if profile is not None:
        profile.enable()
    run_fast(server.serve() if slot is None else serve_as_worker(server, services, slot, args))
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile if slot is None else f"{args.profile}.{slot.index}")  # type: ignore[attr-defined]
    TranscriptStore.sync()
    shutil.rmtree(transcripts, ignore_errors=True)
    Path(stats).write_text(json.dumps({"turns": turns, "jitter": jitter, "stages": stages}))
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--stt-latency", type=float, default=0.0)
    parser.add_argument("--llm-latency", type=float, default=0.0)
    parser.add_argument("--tts-latency", type=float, default=0.0)
    parser.add_argument("--event-logs", help="write each call's event log under this folder")
    parser.add_argument("--ws", default="lean", help="the WebSocket implementation: lean "
                        "(engine/app/server/lean_ws.py, as `dialflow serve` runs) or one of "
                        "uvicorn's (auto, websockets-sansio, websockets, wsproto)")
    parser.add_argument("--profile", metavar="FILE", help="write the server's cProfile stats "
                        "here (read them with `python -m pstats FILE`)")
    args = parser.parse_args()
    args.host = "127.0.0.1"
    if args.workers == 1:
        serve_one(args)
    else:
        sys.exit(Supervisor(args, args.workers, serve_one).run())


if __name__ == "__main__":
    main()
