"""The conversation set (calls.yaml) at text level: every call through the rules brain and the
real tools on a fresh SQLite database, judged turn by turn and on the database afterwards.
The same calls as audio over the Twilio protocol: python -m bench.conversation_bench.

Calls of the `tune` split must all succeed. The `heldout` split is not a test: a test that
must pass would turn it into tuning data. Its figures against the issue's budgets (task
success >= 90 %, turns correct >= 95 %) are printed by
`python -m bench.conversation_bench --text --split heldout`."""

from __future__ import annotations

from pathlib import Path

import pytest
from callset import CallResult, failures, load_calls, run_text

from adapters.local.brain import RulesBrain
from tools.storage import Storage

CALLS = load_calls()


def _run(brain: RulesBrain, tmp_path: Path, call_id: str) -> CallResult:
    [call] = [c for c in CALLS if c.id == call_id]
    storage = Storage(f"sqlite:///{tmp_path / (call.id + '.db')}")
    try:
        return run_text(call, brain, storage)
    finally:
        storage.close()


def test_the_set_is_big_enough_and_split() -> None:
    assert len(CALLS) >= 40
    assert len({c.id for c in CALLS}) == len(CALLS)
    assert sum(c.split == "heldout" for c in CALLS) >= 10


@pytest.mark.parametrize("call_id", [c.id for c in CALLS if c.split == "tune"])
def test_tune_call(call_brain: RulesBrain, tmp_path: Path, call_id: str) -> None:
    result = _run(call_brain, tmp_path, call_id)
    assert result.success, failures([result])


def test_a_wrong_reply_or_row_fails_the_judge(call_brain: RulesBrain, tmp_path: Path) -> None:
    [call] = [c for c in CALLS if c.id == "book-one-sentence"]
    wrong = type(call)(call.id, call.split, call.lines,
                       {"appointments": [{"date": "2026-12-03", "time": "16:00"}]})
    storage = Storage(f"sqlite:///{tmp_path / 'wrong.db'}")
    result = run_text(wrong, call_brain, storage)
    storage.close()
    assert result.turns_ok == len(call.lines) and not result.success
    assert "appointments" in result.outcome_problem
