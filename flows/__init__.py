"""The call flow as data: load `flows.yaml`, validate it with line-numbered errors, draw it.

Public API: `load_flow(path)` returns a validated `Flow` or raises `FlowInvalid`;
`check_flow(path)` returns the problems without raising.
"""

from flows.errors import FlowError, FlowInvalid
from flows.loader import check_flow, load_flow, load_flow_text
from flows.model import Flow, GuardRef, StateSpec, Step, Timeout, TransitionSpec

__all__ = [
    "Flow",
    "FlowError",
    "FlowInvalid",
    "GuardRef",
    "StateSpec",
    "Step",
    "Timeout",
    "TransitionSpec",
    "check_flow",
    "load_flow",
    "load_flow_text",
]
