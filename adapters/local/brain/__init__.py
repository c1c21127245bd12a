"""The offline rules brain: retrieval + intents + slot filling, for when no LLM is usable.

- `brain`        `RulesBrain`, the `engine.ports.Brain` (build it with `from_settings`)
- `intents`      keyword rules + nearest example by MiniLM embedding
- `examples`     the example phrases per intent (data)
- `when`         dates and times in a caller's words (dateparser + spoken-form rules)
- `slots`        name, reason, phone number and "the first one" in a caller's words
- `spoken`       dates, times and lists as they are said on the phone
- `answers`      the best knowledge hit cut to a short spoken answer
- `state`        what is remembered per call
- `replies`      fixed lines, reply helpers, the turn context and tool outcomes
- `booking`      the booking dialogue
- `check_cancel` checking and cancelling the caller's own appointments
- `handoff`      transfer, end of call, taking a message

Imports `engine.ports`, `knowledge` (retriever, embedder) and the pure parts of `tools`
(`calendar`, `phone`); runs no tool and downloads nothing.
"""

from adapters.local.brain.brain import RulesBrain
from adapters.local.brain.intents import IntentClassifier, IntentResult

__all__ = ["IntentClassifier", "IntentResult", "RulesBrain"]
