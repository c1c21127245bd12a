"""Scripted fakes that speak and then fail or hang, and a failing or hanging speaker."""

from __future__ import annotations

from collections.abc import Callable

from engine.scripts import Script, run_script
from engine.scripts.report import format_result

Loader = Callable[[str], Script]
START = """
  - event: call.started
  - event: agent.playback_done
"""


def test_a_reply_speaks_its_sentence_then_fails(script_of: Loader) -> None:
    result = run_script(script_of(f"""
llm: [{{reply: "Let me look that up.", error: overloaded_error}}]
steps:{START}
  - caller: When do you open?
    expect:
      states: [thinking, speaking, escalating]
      reply: look that up
      said: [trouble, transfer]
"""))
    assert result.passed, format_result(result)
    said = [r.detail for r in result.world.records if r.kind == "said"]
    assert "Let me look that up." in said
    errors = [e for e in result.trace.entries if e.event == "llm.error"]
    assert errors and "overloaded_error" in errors[0].data["error"]


def test_a_reply_speaks_its_sentence_then_hangs(script_of: Loader) -> None:
    result = run_script(script_of(f"""
llm: [{{reply: "One moment please.", hang: true}}]
steps:{START}
  - caller: Can I book a cleaning?
    expect: {{state: speaking, reply: One moment}}
  - after: 59s
    expect: {{state: speaking, said: [], timer: timer.playback}}
  - after: 1s
    expect: {{state: listening}}
"""))
    assert result.passed, format_result(result)
    assert not [e for e in result.trace.entries if e.event == "llm.error"]


def test_a_failing_speaker_raises_tts_error(script_of: Loader) -> None:
    result = run_script(script_of("""
speaker: fail
steps:
  - event: call.started
    expect: {states: [greeting, escalating]}
"""))
    assert result.passed, format_result(result)
    assert [e.event for e in result.trace.entries][:2] == ["call.started", "tts.error"]
    failed = [r.detail for r in result.world.records if r.kind == "speaker_failed"]
    assert failed[0]["mode"] == "fail" and "Bright Smile" in failed[0]["text"]
    assert not [r for r in result.world.records if r.kind == "said"]


def test_a_hanging_speaker_leaves_only_the_timer(script_of: Loader) -> None:
    result = run_script(script_of("""
speaker: hang
steps:
  - event: call.started
    expect: {state: greeting, timer: {event: timer.greeting, in: 20s}}
  - after: 20s
    speaker: ok
    expect: {state: listening, timer: {event: timer.silence, in: 8s}}
"""))
    assert result.passed, format_result(result)
    assert not [e for e in result.trace.entries if e.event == "tts.error"]


def test_the_speaker_can_fail_from_a_step_on(script_of: Loader) -> None:
    result = run_script(script_of(f"""
steps:{START}
  - speaker: fail
    expect: {{state: listening}}
  - after: 8s
    expect: {{states: [escalating], said: [reprompt, transfer]}}
"""))
    assert result.passed, format_result(result)
    errors = [e for e in result.trace.entries if e.event == "tts.error"]
    assert [e.before for e in errors] == ["listening", "escalating"]
    assert errors[1].note == "ignored"  # `any:` never leads a state into itself


def test_a_speaker_failing_inside_a_reply_is_reported_as_the_runner_does(
        script_of: Loader) -> None:
    result = run_script(script_of(f"""
llm: [{{reply: "We open at eight."}}]
steps:{START}
  - speaker: fail
    caller: When do you open?
    expect: {{states: [thinking, speaking, escalating]}}
"""))
    assert result.passed, format_result(result)
    errors = [e for e in result.trace.entries if e.event == "llm.error"]
    assert errors and "fake speaker failed" in errors[0].data["error"]
