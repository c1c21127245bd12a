"""Expectations on ticket contents, on what the brain was given, on the armed timer, and
an `ignored:` that names the event it means. Each is shown passing and failing."""

from __future__ import annotations

from collections.abc import Callable

from engine.scripts import Script, run_script
from engine.scripts.report import format_result

Loader = Callable[[str], Script]

FAILED_TRANSFER = """
transfer: fail
steps:
  - event: call.started
  - event: agent.playback_done
  - caller: I need to talk to someone about my bill
    llm: {{reply: "Sure."}}
  - event: agent.playback_done
  - dtmf: "0"
  - event: agent.playback_done
    expect:
      ticket: {{reason: {reason}, summary: {summary}}}
      tickets: {count}
"""


def test_ticket_contents_are_checked(script_of: Loader) -> None:
    good = run_script(script_of(FAILED_TRANSFER.format(
        reason="transfer failed", summary="about my bill", count=1)))
    assert good.passed, format_result(good)

    wrong = run_script(script_of(FAILED_TRANSFER.format(
        reason="transfer timed out", summary="about my bill", count=2)))
    assert not wrong.passed
    assert any(":12: step 'agent.playback_done': expected ticket" in f and
               "'reason': 'transfer failed'" in f for f in wrong.failures), wrong.failures
    assert any(":13: step 'agent.playback_done': expected tickets 2, got 1" in f
               for f in wrong.failures), wrong.failures


BARGE_IN = """
playback: auto
llm:
  - reply: We accept most PPO plans. That includes Delta Dental and Cigna. We also offer a plan.
steps:
  - event: call.started
  - after: 7.5s
    caller: Do you take my insurance?
    expect: {{state: speaking, brain: {{text: my insurance, heard: ["{greeting}"]}}}}
  - after: 3s
    event: caller.speech_started
    data: {{duration_ms: 400}}
    expect: {{state: listening}}
  - caller: Do you take Humana?
    llm: {{reply: "Yes."}}
    expect:
      brain: {{text: Humana, heard: {heard}}}
"""
GREETING = ("Thank you for calling Bright Smile Dental, this is the virtual assistant. "
            "How can I help you today?")


def test_what_the_brain_heard_is_checked(script_of: Loader) -> None:
    heard = f'["{GREETING}", "We accept most PPO plans."]'
    good = run_script(script_of(BARGE_IN.format(greeting=GREETING, heard=heard)))
    assert good.passed, format_result(good)
    asked = [r.detail for r in good.world.records if r.kind == "asked"]
    assert asked[0] == {"text": "Do you take my insurance?", "heard": [GREETING]}

    full = f'["{GREETING}", "We accept most PPO plans.", "That includes Delta Dental and Cigna."]'
    wrong = run_script(script_of(BARGE_IN.format(greeting=GREETING, heard=full)))
    assert any(":17: step 'caller.utterance': expected brain" in f for f in wrong.failures), \
        wrong.failures


def test_the_armed_timer_is_checked(script_of: Loader) -> None:
    result = run_script(script_of("""
steps:
  - event: call.started
    expect: {timer: timer.greeting}
  - event: agent.playback_done
    expect: {timer: {event: timer.silence, in: 8s}}
  - after: 3s
    expect: {timer: {event: timer.silence, in: 5s}}
  - caller: ehm
    confidence: 0.1
    expect: {said: [repeat], timer: none}
  - after: 1s
    expect: {timer: timer.silence}
"""))
    assert len(result.failures) == 1, format_result(result)
    assert ":13: step 'after 1s': expected timer 'timer.silence', got 'none'" in \
        result.failures[0]


def test_ignored_names_the_event(script_of: Loader) -> None:
    result = run_script(script_of("""
steps:
  - event: call.started
  - dtmf: "5"
    expect: {ignored: caller.dtmf}
  - dtmf: "7"
    expect: {ignored: [caller.utterance]}
  - event: agent.playback_done
    expect: {ignored: false}
"""))
    assert len(result.failures) == 1, format_result(result)
    assert ":7: step 'caller.dtmf': expected ignored ['caller.utterance'], got " \
           "['caller.dtmf (ignored)']" in result.failures[0]
