"""Shared pieces for the rules-brain tests and `measure_turns.py`: the business settings, the
injected clock, a retriever over data/knowledge.json, and `Dialogue`, which plays a call the
way flows.yaml does (respond; when a real tool is asked for, run it through the real
`CallTools` (the engine's tools port), hand the outcome back with `tool_result`, and respond again).

Touches a chroma directory and a SQLite file it is given, nothing else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.local.brain import RulesBrain  # noqa: E402
from adapters.local.embeddings import LocalMiniLMEmbedder  # noqa: E402
from engine.ports import Sentence, ToolCall, ToolOutcome, Turn  # noqa: E402
from engine.tools_port import CallTools  # noqa: E402
from knowledge.config import KnowledgeConfig  # noqa: E402
from knowledge.ingest import ingest_file  # noqa: E402
from knowledge.retrieval import Retriever  # noqa: E402
from knowledge.store import KnowledgeStore  # noqa: E402
from tools.builtin import build_registry  # noqa: E402
from tools.calendar import BusinessCalendar  # noqa: E402
from tools.storage import Storage  # noqa: E402

SHIPPED_KB = ROOT / "data" / "knowledge.json"
NY = ZoneInfo("America/New_York")
#: Tuesday 1 December 2026, 09:00 in New York.
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=NY)
CALLER = "+15551230001"
#: The business settings of the shipped flows.yaml (hours, all its holidays, slot length),
#: read from it so the tests' calendar cannot drift from the one callers get.
BUSINESS: dict[str, Any] = yaml.safe_load(
    (ROOT / "flows.yaml").read_text(encoding="utf-8"))["settings"]["business"]
#: Tools the flow handles itself instead of running them.
FLOW_TOOLS = frozenset({"transfer_to_human", "end_call"})


def build_retriever(chroma_dir: Path, embedder: LocalMiniLMEmbedder) -> Retriever:
    config = KnowledgeConfig(path=str(chroma_dir), embeddings="local")
    store = KnowledgeStore(config, embedder)
    ingest_file(SHIPPED_KB, store)
    return Retriever(config, store=store)


def make_brain(retriever: Retriever, embedder: LocalMiniLMEmbedder, *,
               calendar: bool = True, check_slots: bool = False) -> RulesBrain:
    return RulesBrain(
        retriever, embedder=embedder, timezone="America/New_York", now=lambda: NOW,
        calendar=BusinessCalendar.from_settings(BUSINESS) if calendar else None,
        check_slots=check_slots,
    )


def make_storage(db_path: Path) -> Storage:
    return Storage(f"sqlite:///{db_path}")


def make_tools(storage: Storage, call_id: str, caller: str | None = CALLER) -> CallTools:
    """The engine's tools port for one call, on the injected clock."""
    return CallTools(build_registry(), storage, BusinessCalendar.from_settings(BUSINESS),
                     call_id, caller, clock=lambda: NOW)


@dataclass
class Reply:
    """What one caller turn produced, across any tool round trips."""

    sentences: list[str] = field(default_factory=list)
    tools: list[ToolCall] = field(default_factory=list)  # every tool call, in order
    outcomes: list[ToolOutcome] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def last_tool(self) -> ToolCall | None:
        return self.tools[-1] if self.tools else None


class Dialogue:
    """One call: `say(text)` plays a caller turn and returns everything the brain did."""

    def __init__(self, brain: RulesBrain, storage: Storage | None, *,
                 call_id: str = "CA-1", caller: str = CALLER) -> None:
        self.brain = brain
        self.call_id, self.caller = call_id, caller
        self.tools = make_tools(storage, call_id, caller) if storage is not None else None
        self.heard: list[str] = []

    async def _stream(self, turn: Turn, reply: Reply) -> ToolCall | None:
        async for item in self.brain.respond(turn):
            if isinstance(item, Sentence):
                reply.sentences.append(item.text)
                self.heard.append(item.text)
            else:
                assert isinstance(item, ToolCall)
                reply.tools.append(item)
                return item
        return None

    async def asay(self, text: str) -> Reply:
        reply = Reply()
        for _ in range(5):
            turn = Turn(self.call_id, self.caller, text, tuple(self.heard))
            call = await self._stream(turn, reply)
            if call is None or call.name in FLOW_TOOLS or self.tools is None:
                return reply
            outcome = await self.tools.run(call.name, call.args, self.call_id)
            reply.outcomes.append(outcome)
            self.brain.tool_result(self.call_id, call, outcome)
        raise AssertionError("the brain kept asking for tools")

    def say(self, text: str) -> Reply:
        return asyncio.run(self.asay(text))
