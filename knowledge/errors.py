"""The exceptions the knowledge package raises; every one derives from `KnowledgeError`.

Callers (engine, CLI) catch `KnowledgeError` to keep a call or a command alive when retrieval
fails. Messages never contain secrets. This module imports nothing from the project.
"""

from __future__ import annotations


class KnowledgeError(Exception):
    """Anything that went wrong while configuring, ingesting or searching the knowledge base."""


class KnowledgeConfigError(KnowledgeError, ValueError):
    """`settings.knowledge` is invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid knowledge settings:\n  " + "\n  ".join(self.problems))


class EmbeddingError(KnowledgeError):
    """The embedding model could not be loaded or an embedding request failed."""


class ModelMismatchError(KnowledgeError):
    """The collection was indexed with another embedding model and re-indexing is off."""


class DocumentError(KnowledgeError, ValueError):
    """The knowledge JSON is unreadable or has invalid entries; `problems` lists them all."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun}:\n  " + "\n  ".join(self.problems))
