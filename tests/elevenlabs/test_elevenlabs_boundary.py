"""The SDK boundary: only `adapters/elevenlabs` imports the `elevenlabs` package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"^\s*(from|import)\s+elevenlabs\b", re.MULTILINE)
SKIP = {".venv", ".git", "build", "dist", "node_modules"}


def test_only_the_adapter_imports_the_elevenlabs_sdk() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIP & set(relative.parts) or relative.parts[:2] == ("adapters", "elevenlabs"):
            continue
        if IMPORT.search(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(str(relative))
    assert offenders == []
