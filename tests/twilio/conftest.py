"""Shared setup for the Twilio adapter tests: makes the repository root importable so
`tests.fakes.twilio_rest` resolves under plain `pytest` too (not only `python -m pytest`)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
