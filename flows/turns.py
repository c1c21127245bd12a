"""Turn-taking settings: `settings.turn`, the barge-in keys of `settings.barge_in`, and a
state's own `turn:` override — their schema, validation and the typed `TurnPolicy`.

End of turn happens in two steps: `pause_ms` of silence asks for a decision (the turn model
and the transcript's completeness); a turn that sounds finished ends there, one that does
not waits up to `max_wait_ms` of silence. `expect: digits | name` marks a state that
captures numbers or spelled names (its turns wait for the groups to come). A caller who
never stops is cut at `max_turn_ms`. `speculate: false` stops the brain from starting on
the transcript at a pause (it then starts once the turn has ended). A caller who speaks
again within `continue_ms` of silence, before any of the reply was heard and before a tool
ran, continues the turn: the reply is dropped and both utterances are answered as one
(`engine/turns/continuation.py`; 0 turns it off). Barge-in: on the
caller's onset during agent speech the audio pauses at once; `min_speech_ms` (and
`words_required` words, or `long_speech_ms` of speech) confirm it, else the paused speech
resumes after `resume_after_ms`; `interruptible: false` never pauses.
Pure data and checks: imports only flows/ modules.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from flows.errors import FlowError, did_you_mean
from flows.yaml_lines import YMap

EXPECTS = ("", "digits", "name")
MODELS = ("smart_turn", "off")


@dataclass(frozen=True)
class TurnPolicy:
    """How one state takes turns (the flow's defaults, overridden by the state's `turn:`)."""

    pause_ms: int = 200  # silence that asks for an end-of-turn decision
    max_wait_ms: int = 1200  # the longest silence an unfinished turn waits for more
    model: str = "smart_turn"  # the audio turn-completion model, or "off" (text only)
    threshold: float = 0.5  # the model's probability at or above which a turn is finished
    expect: str = ""  # "digits" or "name": a capture state, its groups come with pauses
    max_turn_ms: int = 15_000  # a caller who never stops is cut into a turn here
    speculate: bool = True  # start the reply on the transcript at a pause (played on commit)
    continue_ms: int = 1000  # speech again within this, before the reply is heard, continues
    interruptible: bool = True  # may the caller cut the agent off in this state
    min_speech_ms: int = 300  # caller speech that confirms a barge-in
    words_required: int = 0  # ... and this many words of a transcript (0: duration alone)
    long_speech_ms: int = 900  # speech this long confirms without waiting for its words
    resume_after_ms: int = 1500  # an unconfirmed interruption resumes the agent after this


# key -> (section it may be set in, check, what to write)
_INT = "a whole number of milliseconds"
_KEYS: dict[str, tuple[str, Any, str]] = {
    "pause_ms": ("turn", (40, 2000), f"{_INT} from 40 to 2000, e.g. 200"),
    "max_wait_ms": ("turn", (100, 10_000), f"{_INT} from 100 to 10000, e.g. 1200"),
    "model": ("turn", MODELS, "smart_turn or off"),
    "threshold": ("turn", (0.0, 1.0), "a number from 0 to 1, e.g. 0.5"),
    "expect": ("turn", EXPECTS[1:], "digits or name"),
    "max_turn_ms": ("turn", (1000, 120_000), f"{_INT} from 1000 to 120000, e.g. 15000"),
    "speculate": ("turn", bool, "true or false"),
    "continue_ms": ("turn", (0, 5000), f"{_INT} from 0 (off) to 5000, e.g. 1000"),
    "interruptible": ("barge_in", bool, "true or false"),
    "min_speech_ms": ("barge_in", (0, 10_000), f"{_INT} from 0 to 10000, e.g. 300"),
    "words_required": ("barge_in", (0, 20), "a whole number of words from 0 to 20, e.g. 1"),
    "resume_after_ms": ("barge_in", (100, 10_000), f"{_INT} from 100 to 10000, e.g. 1500"),
    "long_speech_ms": ("barge_in", (100, 10_000), f"{_INT} from 100 to 10000, e.g. 900"),
}
_FLOATS = ("threshold",)


def section_keys(section: str) -> tuple[str, ...]:
    """The keys `settings.<section>` accepts ("turn" or "barge_in")."""
    return tuple(k for k, (where, _, _) in _KEYS.items() if where == section)


def _problem(key: str, value: Any) -> str | None:
    """What to write instead of `key: value`, or None when it is good."""
    _, check, hint = _KEYS[key]
    if check is bool:
        return None if isinstance(value, bool) else hint
    if isinstance(check, tuple) and check and isinstance(check[0], str):
        return None if value in check else hint
    low, high = check
    numeric = (int, float) if key in _FLOATS else (int,)
    if isinstance(value, bool) or not isinstance(value, numeric) or not low <= value <= high:
        return hint
    return None


def _out_of_range(key: str, value: Any) -> bool:
    check = _KEYS[key][1]
    return (isinstance(check, tuple) and not isinstance(check[0], str)
            and isinstance(value, (int, float)) and not isinstance(value, bool))


def check_keys(raw: Any, where: str, allowed: tuple[str, ...], path: str, line: int,
               errors: list[FlowError]) -> dict[str, Any]:
    """Validate a mapping of turn keys (`where` names it in messages); the valid ones."""
    if not isinstance(raw, YMap):
        errors.append(FlowError(path, line, f"{where} must be a mapping",
                                f"indent its keys under it, e.g. `{allowed[0]}: ...`"))
        return {}
    good: dict[str, Any] = {}
    for key, value in raw.items():
        at = raw.line_of(key)
        if key not in allowed:
            errors.append(FlowError(path, at, f"unknown setting '{where}.{key}'",
                                    did_you_mean(str(key), allowed)))
            continue
        problem = _problem(key, value)
        if problem:
            kind = " (out of range)" if _out_of_range(key, value) else ""
            errors.append(FlowError(path, at, f"{where}.{key} is {value!r}{kind}",
                                    f"write {problem}"))
        else:
            good[key] = value
    return good


def flow_policy(raw_settings: Any, path: str, errors: list[FlowError]) -> TurnPolicy:
    """The flow-wide `TurnPolicy` from `settings.turn` and `settings.barge_in`."""
    if not isinstance(raw_settings, YMap):
        return TurnPolicy()
    values: dict[str, Any] = {}
    for section in ("turn", "barge_in"):
        if section in raw_settings:
            values.update(check_keys(raw_settings[section], f"settings.{section}",
                                     section_keys(section), path,
                                     raw_settings.line_of(section), errors))
    return _policy(TurnPolicy(), values)


def state_policy(raw: Any, state: str, path: str, line: int,
                 errors: list[FlowError]) -> dict[str, Any]:
    """A state's `turn:` override (any turn or barge-in key), validated."""
    good = check_keys(raw, f"states.{state}.turn", tuple(_KEYS), path, line, errors)
    pause, wait = good.get("pause_ms"), good.get("max_wait_ms")
    if pause is not None and wait is not None and wait < pause:
        errors.append(FlowError(path, line, f"states.{state}.turn waits less than it pauses",
                                "make max_wait_ms at least pause_ms"))
    return good


def _policy(base: TurnPolicy, values: dict[str, Any]) -> TurnPolicy:
    names = {f.name for f in fields(TurnPolicy)}
    cast = {k: (float(v) if k in _FLOATS else v) for k, v in values.items() if k in names}
    return replace(base, **cast)


def policy_for(base: TurnPolicy, override: dict[str, Any] | None) -> TurnPolicy:
    """A state's policy: the flow's, with the state's own `turn:` keys on top."""
    return _policy(base, override) if override else base
