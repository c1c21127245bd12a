"""The README's sample transcript (Quickstart, "it looks like this") against the code: its
caller lines are `dialflow call`'s default lines, its first agent line is flows.yaml's
after-hours greeting, and the rules brain, played the same lines at text level on the
clock the README states, says every one of the README's other agent lines in order (the
words, not the timings; a doubled letter of a heard name is folded, as the call judge does).
The audio run itself is tests/offline/test_offline_call.py."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml
from brain_testkit import NY, Dialogue

from adapters.local.brain import RulesBrain
from adapters.local.embeddings import LocalMiniLMEmbedder
from engine.app.commands.call import DEFAULT_LINES
from engine.tools_port import CallTools
from knowledge.retrieval import Retriever
from tools.builtin import build_registry
from tools.calendar import BusinessCalendar
from tools.storage import Storage

ROOT = Path(__file__).resolve().parents[2]
#: The README says its run was `make demo` at 5 AM on Wednesday 2 December 2026, New York.
README_CLOCK = dt.datetime(2026, 12, 2, 5, 10, tzinfo=NY)
_LINE = re.compile(r"^\d\d:\d\d\.\d  (AGENT|CALLER) +(.*?)(   \[turn latency [\d.]+ s\])?$")


def _sample() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("it looks like this")
    block = text[text.index("```\n", start) + 4:]
    block = block[: block.index("```\n")]
    assert "5 AM on Wednesday 2 December 2026" in text[start:text.index("```\n", start)]
    return [(m[1], m[2]) for m in map(_LINE.match, block.splitlines()) if m]


def _fold(text: str) -> str:
    return re.sub(r"([a-z])\1", r"\1", text.casefold())


def test_the_caller_says_the_demo_lines_and_is_greeted_after_hours() -> None:
    lines = _sample()
    assert [said for who, said in lines if who == "CALLER"] == list(DEFAULT_LINES)
    flows = yaml.safe_load((ROOT / "flows.yaml").read_text(encoding="utf-8"))
    greeting = flows["prompts"]["after_hours"].replace(
        "{business.name}", flows["settings"]["business"]["name"])
    assert lines[0] == ("AGENT", greeting)


def test_the_agent_lines_are_what_the_brain_says(retriever: Retriever,
                                                 embedder: LocalMiniLMEmbedder,
                                                 tmp_path: Path) -> None:
    business = yaml.safe_load((ROOT / "flows.yaml").read_text())["settings"]["business"]
    calendar = BusinessCalendar.from_settings(business)
    brain = RulesBrain(retriever, embedder=embedder, timezone=business["timezone"],
                       now=lambda: README_CLOCK, calendar=calendar, check_slots=True)
    storage = Storage(f"sqlite:///{tmp_path / 'demo.db'}")
    dialogue = Dialogue(brain, storage, call_id="CA-demo", caller="+15550001111")
    dialogue.tools = CallTools(build_registry(), storage, calendar, "CA-demo", "+15550001111",
                               clock=lambda: README_CLOCK)
    said = [s for line in DEFAULT_LINES for s in dialogue.say(line).sentences]
    storage.close()
    goodbye = "Thank you for calling Bright Smile Dental. Goodbye!"  # the flow's end_call line
    readme = [_fold(text) for who, text in _sample()[1:] if who == "AGENT"]
    assert readme == [_fold(s) for s in said] + [_fold(goodbye)], (readme, said)
