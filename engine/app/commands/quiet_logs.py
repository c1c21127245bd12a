"""`quiet_logs`: silence dialflow's log while a command replays a call (scripted or recorded).

The failures such a call meets on purpose (a refused transfer, a provider error) are already in
its trace; on stderr they read like crashes. `-v` keeps them. Touches only the log level.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_logs(verbose: bool) -> Iterator[None]:
    """Raise the `dialflow` logger to CRITICAL unless `verbose`; restore its level after."""
    logger = logging.getLogger("dialflow")
    level = logger.level
    if not verbose:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
