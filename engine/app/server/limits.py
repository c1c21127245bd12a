"""`ServerLimits`: the bounds a deployment sets on what the outside may hold, read from the
environment once at start-up and reported by `/health` under `limits`.

- `DIALFLOW_MAX_CALLS` (default 300, where `bench/server_bench.py` found the edge of the
  2-core development machine): media sockets open at once, started or not. A webhook
  beyond it is answered with a polite busy message; a handshake beyond it is refused (1013).
- `DIALFLOW_START_DEADLINE` (seconds, default 10): a media socket that has not sent a valid
  `start` by then is closed (1008).
- `DIALFLOW_MAX_MESSAGE_BYTES` (default 65536): a larger media-stream message is logged and
  dropped; the WebSocket transport closes a socket only past `transport_max_bytes` (16 times
  that, at least 1 MiB), since such a frame has to be read whole before it can be dropped.

A bad value is a one-line start-up error naming the variable. Pure data, no I/O.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.environment import (
    DIALFLOW_MAX_CALLS,
    DIALFLOW_MAX_MESSAGE_BYTES,
    DIALFLOW_START_DEADLINE,
)

MAX_CALLS_ENV = DIALFLOW_MAX_CALLS
START_DEADLINE_ENV = DIALFLOW_START_DEADLINE
MAX_MESSAGE_BYTES_ENV = DIALFLOW_MAX_MESSAGE_BYTES


class LimitsError(ValueError):
    """A limit in the environment that is not a usable number."""


def _number(env: Mapping[str, str], name: str, default: float, *, whole: bool,
            minimum: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = None
    if value is None or value != value or value < minimum or value == float("inf"):
        kind = "a whole number" if whole else "a number of seconds"
        raise LimitsError(f"{name} must be {kind} of at least {minimum:g}, got {text!r:.40}")
    return value


@dataclass(frozen=True)
class ServerLimits:
    max_calls: int = 300
    start_deadline: float = 10.0
    max_message_bytes: int = 64 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerLimits:
        env = os.environ if env is None else env
        return cls(
            max_calls=int(_number(env, MAX_CALLS_ENV, cls.max_calls, whole=True, minimum=1)),
            start_deadline=_number(env, START_DEADLINE_ENV, cls.start_deadline, whole=False,
                                   minimum=0.1),
            max_message_bytes=int(_number(env, MAX_MESSAGE_BYTES_ENV, cls.max_message_bytes,
                                          whole=True, minimum=1024)),
        )

    @property
    def transport_max_bytes(self) -> int:
        """The WebSocket frame size past which the transport closes the socket."""
        return max(1 << 20, 16 * self.max_message_bytes)

    def describe(self) -> dict[str, Any]:
        return {"max_calls": self.max_calls, "start_deadline_seconds": self.start_deadline,
                "max_message_bytes": self.max_message_bytes,
                "transport_max_bytes": self.transport_max_bytes}
