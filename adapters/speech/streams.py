"""Small helpers around a `TtsProvider`'s audio stream.

`TtsProvider.synthesize(text)` takes only the text; the adapters in this repository also
accept `call_id=` so their log lines name the call. `open_synthesis` passes the call id to
providers that take it and leaves it out for those that do not. `frames` cuts audio into
20 ms mu-law frames (the last one may be shorter).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache

from engine.media import FRAME_BYTES, TtsProvider


def open_synthesis(provider: TtsProvider, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
    if _takes_call_id(type(provider)):
        return provider.synthesize(text, call_id=call_id)  # type: ignore[call-arg]
    return provider.synthesize(text)


@lru_cache(maxsize=128)
def _takes_call_id(kind: type) -> bool:
    method = getattr(kind, "synthesize", None)
    if method is None:
        return False
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "call_id" or p.kind is inspect.Parameter.VAR_KEYWORD
               for p in parameters)


def frames(audio: bytes, size: int = FRAME_BYTES) -> Iterator[bytes]:
    for start in range(0, len(audio), size):
        yield audio[start:start + size]
