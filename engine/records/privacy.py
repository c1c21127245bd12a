"""Where call records live, and scrubbing stored data; `settings.privacy` is the typed
`flows.sections.PrivacySettings` the flow hands in (`flow.settings.privacy`):

    settings:
      privacy:
        record_audio: false       # stereo WAV of both sides, encrypted (key from the env)
        retention_days: 30        # recordings, event logs and transcripts
        redact_transcripts: false # mask phone numbers, card numbers, dates of birth

Defaults apply when the section is absent. The redactor itself is handed in by the server
(`engine.redaction.redact_private`); this module only applies it to every string of a
record.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.environment import DIALFLOW_DATA, DIALFLOW_RECORDING_KEY, DIALFLOW_TRANSCRIPTS
from flows.sections import PrivacySettings

__all__ = ["DATA_ENV", "KEY_ENV", "DataDirs", "PrivacySettings", "Redactor", "scrub"]

KEY_ENV = DIALFLOW_RECORDING_KEY
DATA_ENV = DIALFLOW_DATA
Redactor = Callable[[str], str]


@dataclass(frozen=True)
class DataDirs:
    """Where call records are kept: `data/calls` (event logs, flow archive),
    `data/recordings`, `data/transcripts` (the server's transcripts)."""

    calls: Path
    recordings: Path
    transcripts: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, root: str | Path | None = None
                 ) -> DataDirs:
        env = os.environ if env is None else env
        base = Path(root or env.get(DATA_ENV, "data"))
        return cls(calls=base / "calls", recordings=base / "recordings",
                   transcripts=Path(env.get(DIALFLOW_TRANSCRIPTS, base / "transcripts")))


def scrub(value: Any, redact: Redactor | None) -> Any:
    """Apply `redact` to every string inside `value` (dicts, lists); None leaves it as is."""
    if redact is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: scrub(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, redact) for v in value]
    return value
