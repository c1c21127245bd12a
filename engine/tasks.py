"""`CallTasks`: the asyncio tasks a call owns, each owned by the state that started it.

Leaving a state cancels the tasks it owns (that is how barge-in stops a reply), unless the
transition keeps them, which hands them to the next state. Finished tasks drop out at once,
so nothing accumulates over a long call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class CallTasks:
    def __init__(self, call_id: str):
        self.call_id = call_id
        self._owner: dict[asyncio.Task[Any], str] = {}

    def spawn(self, coro: Coroutine[Any, Any, Any], owner: str, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.call_id}:{name}")
        self._owner[task] = owner
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._owner.pop(task, None)

    def leave(self, state: str, dest: str | None, keep: bool) -> int:
        """The call leaves `state` for `dest`: cancel or hand over its tasks; return how many
        were cancelled."""
        cancelled = 0
        for task, owner in list(self._owner.items()):
            if owner != state:
                continue
            if keep and dest:
                self._owner[task] = dest
            else:
                task.cancel()
                cancelled += 1
        return cancelled

    def owned_by(self, state: str) -> list[asyncio.Task[Any]]:
        return [t for t, owner in self._owner.items() if owner == state]

    def names(self) -> list[str]:
        """The names of the live tasks (`<call id>:<name>`)."""
        return [task.get_name() for task in self._owner]

    def cancel_all(self) -> None:
        for task in list(self._owner):
            task.cancel()

    def __len__(self) -> int:
        return len(self._owner)
