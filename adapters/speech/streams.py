"""Small helpers around a `TtsProvider`'s audio stream.

`TtsProvider.synthesize(text)` takes only the text; the adapters in this repository also
accept `call_id=` so their log lines name the call. `open_synthesis` passes the call id to
providers that take it and leaves it out for those that do not. (Cutting audio into 20 ms
frames is `engine.audio_format.frames`.)
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from functools import lru_cache

from engine.media import TtsProvider


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
