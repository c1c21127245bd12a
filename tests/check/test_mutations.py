"""Mutation suite: the default flow broken on purpose, one way at a time (a deleted timer, a
removed handler, a loop, a clash, a typo…). `dialflow check` must refuse or warn about each
with the right kind, severity and line — and a typo gives one error, not a cascade.
(Hostile YAML — tabs, aliases, tags, encodings — has its own suite.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.app.commands.check import examine

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = (ROOT / "flows.yaml").read_text(encoding="utf-8")
HTTP_TOOL = """
http_tools:
  - name: {name}
    description: Check whether an insurance plan is accepted.
    url: https://insurance.example.com/check
"""


@dataclass(frozen=True)
class Mutation:
    name: str
    old: str
    new: str
    expect: str  # a finding kind, or a piece of its message
    line_of: str  # the line the finding must name: the first line containing this…
    after: str = ""  # …at or after the first line containing this
    severity: str = "error"
    only: bool = False  # the mutated file has exactly this one problem
    more: tuple[tuple[str, str], ...] = ()  # further (old, new) replacements


M = Mutation
LISTEN_REPROMPT = "do: [{count: reprompts}, {say: reprompt}, restart_timer]"
LISTEN_REPEAT = "do: [{count: repeats}, {say: repeat}, restart_timer]"
GOODBYE_IGNORE = "    ignore: [caller.utterance, caller.speech_started, caller.dtmf, stt.error]\n"
MUTATIONS = [
    # --- stalls: a lost playback report with no timer left --------------------------------
    M("reprompt without restarting the timer", LISTEN_REPROMPT,
      "do: [{count: reprompts}, {say: reprompt}]", "stall", "- if: {below_limit: reprompts}",
      after="timer.silence:"),
    M("repeat stops the timer", LISTEN_REPEAT, "do: [{count: repeats}, stop_timer, {say: repeat}]",
      "stall", "- if: {below_limit: repeats}"),
    M("speaking without a timeout", "    timeout: {after: 60s, event: timer.playback}\n", "",
      "no timeout", "  speaking:"),
    M("greeting without a timeout", "    timeout: {after: 20s, event: timer.greeting}\n", "",
      "no timeout", "  greeting:", after="states:"),
    M("barge_in without a timeout", "    timeout: {after: 1s, event: timer.playback}\n", "",
      "no timeout", "  barge_in:", after="states:"),
    M("transferring timer not handled", "      timer.transfer: {to: goodbye, do: "
      "[{take_message: transfer timed out}, {say: transfer_failed}]}\n", "",
      "does not handle it", "timeout: {after: 45s, event: timer.transfer}"),
    M("the tool's timer handler deleted",
      "      timer.tool: {to: escalating, do: [{say: tool_failed}]}\n", "",
      "does not handle it", "timeout: {after: 10s, event: timer.tool}"),
    # --- a lost mark skips the transfer ---------------------------------------------------
    M("escalating times out into goodbye", "      timer.playback: transferring        #",
      "      timer.playback: {to: goodbye, do: [{take_message: x}, {say: transfer_failed}]} #",
      "lost-mark", "agent.playback_done: transferring"),
    # --- lost caller input ----------------------------------------------------------------
    M("speaking drops a short yes",
      "      caller.utterance: {if: understood, to: thinking, do: [stop_speaking]}\n      llm",
      "      llm", "lost-input", "  speaking:"),
    M("tool_running drops the caller's words", "      caller.utterance: {if: understood}\n",
      "", "lost-input", "  tool_running:"),
    M("thinking drops speech onsets",
      "      caller.speech_started: {if: long_enough, do: [restart_timer]}\n", "",
      "lost-input", "  thinking:"),
    M("greeting drops quick words",
      "      caller.utterance: {if: understood, to: thinking, do: [stop_speaking]}\n      timer",
      "      timer", "lost-input", "  greeting:", after="states:"),
    M("escalating no longer says it ignores the caller",
      "    ignore: [caller.utterance, caller.speech_started]\n", "", "lost-input",
      "  escalating:"),
    # --- a failed transfer run again ------------------------------------------------------
    M("DTMF 0 reopens the goodbye", GOODBYE_IGNORE,
      "    ignore: [caller.utterance, caller.speech_started, stt.error]\n", "retry",
      "enter: [{warm_transfer:"),
    M("an STT error reopens the goodbye", GOODBYE_IGNORE,
      "    ignore: [caller.utterance, caller.speech_started, caller.dtmf]\n", "retry",
      "enter: [{warm_transfer:"),
    M("DTMF 0 during the transfer starts another",
      "    ignore: [caller.utterance, caller.speech_started, caller.dtmf, stt.error, tts.error]",
      "    ignore: [caller.utterance, caller.speech_started, stt.error, tts.error]", "retry",
      "enter: [{warm_transfer:"),
    # --- loops with side effects ----------------------------------------------------------
    M("a dead voice loops back to escalating",
      "  tts.error: {to: ended, do: [{take_message: the voice failed}]}",
      "  tts.error: {to: escalating, do: [{take_message: the voice failed}]}", "loop",
      "tts.error: {to: escalating",
      more=(("      timer.hangup: ended\n      tts.error: ended\n",
             "      timer.hangup: ended\n"),)),
    M("reprompt a silent caller forever", LISTEN_REPROMPT + "\n        - to: escalating\n"
      "          do: [{say: no_response}]", "do: [{say: reprompt}, restart_timer]", "loop",
      "- if: {below_limit: reprompts}", after="timer.silence:"),
    M("escalating re-enters itself", "      timer.playback: transferring        #",
      "      timer.playback: escalating   #", "loop", "timer.playback: escalating"),
    # --- unbounded calls ------------------------------------------------------------------
    M("no call-level limit", "  limits:\n    max_call: 20m", "  limits:\n    max_cal_off: 20m",
      "unknown setting 'limits.max_cal_off'", "max_cal_off", only=True),
    M("limits deleted", "  limits:\n    max_call: 20m               # then call.time_limit "
      "(handled under any:); 30 s later the\n    hangup_after: 30s ", "  # no limits", "unbounded",
      "  barge_in:"),
    M("the time limit is not handled", "  call.time_limit: {to: goodbye, do: [{take_message: "
      "call time limit}, {say: time_limit}]}\n", "", "limit-unhandled", "  limits:",
      severity="warning"),
    # --- out-of-range settings and unknown providers --------------------------------------
    M("confidence above 1", "min_confidence: 0.5", "min_confidence: 1.5", "out of range",
      "min_confidence", only=True),
    M("negative speech length", "min_speech_ms: 300", "min_speech_ms: -5", "out of range",
      "min_speech_ms", only=True),
    M("temperature too high", "temperature: 0.3", "temperature: 7", "out of range",
      "temperature", only=True),
    M("no tokens", "max_tokens: 300", "max_tokens: 0", "out of range", "max_tokens", only=True),
    M("negative call limit", "max_call: 20m", "max_call: -20m", "not a duration", "max_call",
      only=True),
    M("unknown STT provider", "provider: auto              # deepgram",
      "provider: deepgrm           # deepgram", "unknown stt provider", "deepgrm", only=True),
    M("unknown LLM provider", "provider: auto              # anthropic",
      "provider: claude            # anthropic", "unknown llm provider", "claude", only=True),
    # --- dead constructs (warnings) -------------------------------------------------------
    M("greeting handles a timer it never arms", "      timer.greeting: listening\n",
      "      timer.greeting: listening\n      timer.silence: listening\n", "never runs",
      "timer.silence: listening", severity="warning", only=True),
    M("a call.started handler", "      timer.greeting: listening\n",
      "      timer.greeting: listening\n      call.started: listening\n", "call.started never",
      "call.started: listening", severity="warning", only=True),
    M("an unguarded tool_call first", "        - {if: {tool: end_call}, to: goodbye}\n",
      "        - tool_running\n        - {if: {tool: end_call}, to: goodbye}\n", "shadowed",
      "- {if: {tool: end_call}, to: goodbye}", severity="warning"),
    M("a tool guard naming no tool", "{if: {tool: end_call}, to: goodbye}",
      "{if: {tool: end_cal}, to: goodbye}", "no tool named 'end_cal'", "tool: end_cal",
      severity="warning", only=True),
    # --- clashes --------------------------------------------------------------------------
    M("an HTTP tool named like a built-in", "# Transitions every non-final",
      HTTP_TOOL.format(name="book_appointment") + "# Transitions every non-final", "clash",
      "name: book_appointment", only=True),
    M("two HTTP tools with one name", "# Transitions every non-final",
      HTTP_TOOL.format(name="check_insurance") + HTTP_TOOL.format(name="check_insurance")
      .replace("http_tools:\n", "") + "# Transitions every non-final", "two HTTP tools",
      "name: check_insurance", after="check_insurance", only=True),
    M("handles and ignores the same event",
      "    ignore: [caller.utterance, caller.speech_started]\n"
      "    on:\n      agent.playback_done: transferring",
      "    ignore: [caller.utterance, caller.speech_started, agent.playback_done]\n"
      "    on:\n      agent.playback_done: transferring", "both handles and ignores",
      "  escalating:", only=True),
    # --- typos: one error each, no follow-on "unreachable" errors -------------------------
    M("a typo in a destination", "agent.reply_started: {to: speaking, keep_tasks: true}",
      "agent.reply_started: {to: speakin, keep_tasks: true}", "unknown state 'speakin'",
      "to: speakin", only=True),
    M("a typo in an event name", "      caller.utterance: {if: understood}\n",
      "      caller.uterance: {if: understood}\n", "unknown event 'caller.uterance'",
      "caller.uterance", only=True),
    M("a typo in the initial state", "initial: greeting", "initial: greting",
      "initial state 'greting'", "initial: greting", only=True),
    M("a typo in an ignore list", "ignore: [agent.playback_cleared]",
      "ignore: [agent.playback_clear]", "unknown event 'agent.playback_clear'",
      "agent.playback_clear", only=True),
    # --- warm transfer: its argument, its outcomes, its timer -----------------------------
    M("a warm transfer whose whisper prompt is missing", "whisper: transfer_whisper, ring",
      "whisper: transfer_whispr, ring", "missing prompt 'transfer_whispr'",
      "transfer_whispr", only=True),
    M("a warm transfer with no whisper", "{warm_transfer: {whisper: transfer_whisper, ring: 25s}}",
      "{warm_transfer: {ring: 25s}}", "needs a `whisper` prompt", "{warm_transfer: {ring",
      only=True),
    M("a warm transfer ringing longer than Twilio allows", "transfer_whisper, ring: 25s",
      "transfer_whisper, ring: 700s", "not between 5 and 600", "ring: 700s", only=True),
    M("a misspelt warm transfer key", "transfer_whisper, ring: 25s",
      "transfer_whisper, rings: 25s", "unknown key 'rings'", "rings: 25s", only=True),
    M("a transfer timer shorter than the ringing", "timeout: {after: 45s, event: timer.transfer}",
      "timeout: {after: 30s, event: timer.transfer}", "would cut off a human",
      "timeout: {after: 30s, event: timer.transfer}", only=True),
    M("no answer not handled", "      transfer.no_answer: *back_to_agent\n", "",
      "does not handle transfer.no_answer", "enter: [{warm_transfer:", only=True),
    M("connected not handled", "      transfer.completed: transferred       # the caller is in "
      "the conference with the human\n", "",
      "does not handle transfer.completed", "enter: [{warm_transfer:"),
    M("the timer may cut off the human during the whisper",
      "      transfer.answered: {do: [restart_timer]}\n", "",
      "could give up while the human hears the whisper",
      "timeout: {after: 45s, event: timer.transfer}", severity="warning", only=True),
    M("the flow leaves on the human picking up, before the caller is moved (older flows)",
      "      transfer.answered: {do: [restart_timer]}\n", "",
      "goes to 'transferred' on transfer.answered", "transfer.answered: transferred",
      more=(("      transfer.completed: transferred       #",
             "      transfer.answered: transferred  #"),)),
]


def _line(text: str, needle: str, after: str = "") -> int:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if needle in line)


def test_the_suite_is_big_enough() -> None:
    assert len(MUTATIONS) >= 30
    assert len({m.name for m in MUTATIONS}) == len(MUTATIONS)


def test_the_default_flow_itself_is_clean() -> None:
    _, findings, report = examine(str(ROOT / "flows.yaml"))
    assert findings == [] and report is not None


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_each_broken_flow_is_refused_or_warned_at_its_line(mutation: Mutation,
                                                           tmp_path: Path) -> None:
    assert DEFAULT.count(mutation.old) >= 1, mutation.old
    text = DEFAULT.replace(mutation.old, mutation.new, 1)
    for old, new in mutation.more:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    _, findings, _ = examine(str(path))
    want = _line(text, mutation.line_of, mutation.after)
    hits = [f for f in findings if mutation.expect in (f.kind, *[f.message])
            or mutation.expect in f.message]
    assert hits, [(f.kind, f.line, f.message) for f in findings]
    assert any(f.line == want and f.severity == mutation.severity for f in hits), \
        [(f.kind, f.line, f.severity, f.message) for f in hits]
    assert all(f.fix for f in findings)
    if mutation.only:
        assert len(findings) == 1, [str(f) for f in findings]
