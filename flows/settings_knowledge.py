"""The `settings.knowledge` section of flows.yaml: its keys and validator.

`validate_knowledge_settings` lists the problems of the plain mapping as
"settings.knowledge.<key>: ..." sentences; `flows/settings.py` puts each on its line, and
`knowledge.config.KnowledgeConfig` (the owner's typed config, whose fields are exactly
`KNOWN_KEYS`) checks the same way when built. Pure code; imports nothing of ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

EMBEDDING_MODES = ("auto", "local", "openai")  # the built-ins
#: The entry-point group through which packages add providers (see engine/providers.py).
PROVIDER_ENTRY_POINTS = "dialflow.providers"
KNOWN_KEYS = ("path", "host", "port", "collection", "top_k", "max_distance", "embeddings",
              "source", "reindex_on_mismatch", "openai_model", "openai_base_url",
              "openai_timeout_s", "openai_max_retries")
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$")
_MAX_TOP_K = 20


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_string(d: Mapping[str, Any], key: str, *, nullable: bool = False) -> list[str]:
    if key not in d or (nullable and d[key] is None):
        return []
    value = d[key]
    if not isinstance(value, str) or not value.strip():
        kind = "a non-empty string or null" if nullable else "a non-empty string"
        return [f"settings.knowledge.{key}: must be {kind}, got {value!r}"]
    return []


def validate_knowledge_settings(d: Any) -> list[str]:
    """Human-readable problems with a `settings.knowledge` mapping; [] when it is valid."""
    if d is None:
        return []
    if not isinstance(d, Mapping):
        return [f"settings.knowledge: must be a mapping, got {type(d).__name__}"]
    problems: list[str] = []
    for key in d:
        if key not in KNOWN_KEYS:
            problems.append(
                f"settings.knowledge.{key}: unknown key (known: {', '.join(KNOWN_KEYS)})"
            )
    for key in ("path", "source", "openai_model"):
        problems += _check_string(d, key)
    problems += _check_string(d, "host", nullable=True)
    if "port" in d and not (_is_int(d["port"]) and 1 <= d["port"] <= 65535):
        problems.append(f"settings.knowledge.port: must be an integer 1-65535, got {d['port']!r}")
    if "collection" in d and not (
        isinstance(d["collection"], str) and _COLLECTION_NAME.match(d["collection"])
    ):
        problems.append(
            "settings.knowledge.collection: must be 3-512 characters of letters, digits, '.', "
            f"'_' or '-', starting and ending with a letter or digit, got {d['collection']!r}"
        )
    if "top_k" in d and not (_is_int(d["top_k"]) and 1 <= d["top_k"] <= _MAX_TOP_K):
        problems.append(
            f"settings.knowledge.top_k: must be an integer 1-{_MAX_TOP_K}, got {d['top_k']!r}"
        )
    max_distance = d.get("max_distance")
    if max_distance is not None and not (_is_number(max_distance) and 0 < max_distance <= 2):
        problems.append(
            "settings.knowledge.max_distance: must be a number in (0, 2] (cosine distance) "
            f"or null, got {max_distance!r}"
        )
    if "embeddings" in d and d["embeddings"] not in EMBEDDING_MODES and (
            d["embeddings"] not in (modes := embedding_modes())):  # registered ones: rare
        problems.append(
            f"settings.knowledge.embeddings: must be one of {', '.join(modes)}, "
            f"got {d['embeddings']!r}"
        )
    if "reindex_on_mismatch" in d and not isinstance(d["reindex_on_mismatch"], bool):
        problems.append(
            "settings.knowledge.reindex_on_mismatch: must be true or false, "
            f"got {d['reindex_on_mismatch']!r}"
        )
    base_url = d.get("openai_base_url")
    if base_url is not None and not (
        isinstance(base_url, str) and base_url.startswith(("http://", "https://"))
    ):
        problems.append(
            f"settings.knowledge.openai_base_url: must be an http(s) URL or null, got {base_url!r}"
        )
    timeout = d.get("openai_timeout_s", 1)
    if not (_is_number(timeout) and timeout > 0):
        problems.append(
            f"settings.knowledge.openai_timeout_s: must be a positive number, got {timeout!r}"
        )
    retries = d.get("openai_max_retries", 0)
    if not (_is_int(retries) and 0 <= retries <= 10):
        problems.append(
            f"settings.knowledge.openai_max_retries: must be an integer 0-10, got {retries!r}"
        )
    return problems


def embedding_modes() -> tuple[str, ...]:
    """The built-in modes, then the embedders installed packages register as
    `embeddings.<name>` in the `dialflow.providers` entry-point group."""
    from importlib.metadata import entry_points

    extra = sorted({ep.name.partition(".")[2].strip().lower()
                    for ep in entry_points(group=PROVIDER_ENTRY_POINTS)
                    if ep.name.startswith("embeddings.")} - {"", *EMBEDDING_MODES})
    return (*EMBEDDING_MODES, *extra)
