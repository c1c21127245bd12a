"""Knowledge documents: the `Document` type and loading/validating the knowledge JSON.

The file is a JSON list of `{"id", "title", "text", "tags"}` objects (`tags` optional).
Every problem is collected and reported at once in a `DocumentError` naming the file, the
entry's index and id, and what is wrong. Reads only the file it is given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.errors import DocumentError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_KEYS = ("id", "title", "text", "tags")


@dataclass(frozen=True)
class Document:
    """One knowledge-base entry."""

    id: str
    title: str
    text: str
    tags: tuple[str, ...] = ()


def _entry_problems(index: int, entry: Any, seen: dict[str, int]) -> list[str]:
    if not isinstance(entry, dict):
        return [
            f"entry {index}: must be an object with id, title, text, tags; got "
            f"{type(entry).__name__}"
        ]
    raw_id = entry.get("id")
    where = f"entry {index} (id {raw_id!r})" if isinstance(raw_id, str) else f"entry {index}"
    problems = [
        f"{where}: unknown key {key!r} (allowed: {', '.join(_KEYS)})"
        for key in entry
        if key not in _KEYS
    ]
    if not isinstance(raw_id, str) or not _ID.match(raw_id):
        problems.append(
            f"{where}: 'id' must be 1-128 letters, digits, '_', '-' or '.', starting with a "
            f"letter or digit; got {raw_id!r}"
        )
    elif raw_id in seen:
        problems.append(f"{where}: duplicate id, already used by entry {seen[raw_id]}")
    else:
        seen[raw_id] = index
    for key in ("title", "text"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            state = "missing" if key not in entry else f"got {value!r}"
            problems.append(f"{where}: {key!r} must be a non-empty string ({state})")
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        problems.append(f"{where}: 'tags' must be a list of non-empty strings; got {tags!r}")
    return problems


def parse_documents(data: Any, source: str = "<data>") -> list[Document]:
    """Validate already-decoded JSON; raises `DocumentError` listing every problem."""
    if not isinstance(data, list):
        raise DocumentError(
            source, [f"the top level must be a list of entries, got {type(data).__name__}"]
        )
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data):
        problems += _entry_problems(index, entry, seen)
    if problems:
        raise DocumentError(source, problems)
    return [
        Document(
            id=e["id"],
            title=e["title"].strip(),
            text=e["text"].strip(),
            tags=tuple(t.strip() for t in e.get("tags", [])),
        )
        for e in data
    ]


def load_documents(path: str | Path) -> list[Document]:
    """Read and validate the knowledge JSON at `path`."""
    source = str(path)
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            source, [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from exc
    return parse_documents(data, source)
