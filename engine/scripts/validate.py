"""Check the names an event script uses against the flow it runs on.

A script that expects a state, prompt or counter the flow does not have, or scripts a tool
nobody can call, would otherwise fail (or pass) for the wrong reason; here each such name
is an error with the script's line and the closest known name. Reads the flow and the
built-in tool list; touches nothing.
"""

from __future__ import annotations

from engine.effect import Effect
from engine.scripts.format import Script
from flows.errors import did_you_mean
from flows.model import Flow


def known_tools(flow: Flow) -> set[str]:
    """Tools a call on `flow` can run or be asked for: built-ins, the flow's HTTP tools and
    every tool a `{tool: name}` guard names (end_call, transfer_to_human)."""
    from tools.builtin import BUILTIN_TOOL_NAMES

    names = set(BUILTIN_TOOL_NAMES)
    names |= {str(t.get("name")) for t in flow.http_tools if t.get("name")}
    names |= {str(g.arg) for t in flow.transitions for g in t.guards if g.name == "tool"}
    return names


def effect_kinds(flow: Flow) -> set[str]:
    """What `effect:`/`no_effect:` may name: every effect kind, and counters (`reprompts=1`)."""
    import states.registry  # noqa: F401  (every behaviour module, so every effect class)

    kinds = {cls.kind for cls in _subclasses(Effect)} - {"counter", "effect"}
    return kinds | set(flow.counters)


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def check_refs(script: Script, flow: Flow) -> list[str]:
    """One message per name in `script` that `flow` does not know, with its line."""
    known = {"tool": known_tools(flow), "state": set(flow.states), "prompt": set(flow.prompts),
             "counter": set(flow.counters), "effect": effect_kinds(flow),
             "var": set(flow.vars)}
    out = []
    for ref in script.refs:
        if ref.name not in known[ref.kind]:
            out.append(f"{script.path}:{ref.line}: unknown {ref.kind} '{ref.name}' "
                       f"(flow {flow.path}): {did_you_mean(ref.name, known[ref.kind])}")
    return out
