"""Templated text in flows.yaml: `{business.name}`, `{vars.member_id}`, `{last_reply}`.

A prompt (or a `set:` value) may name values in braces; `check_names` lists the names that
do not exist, `render` fills them in for one call. A prompt without braces is static and
its audio can be cached; a templated one is synthesised per call. Pure functions only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_NAME = re.compile(r"\{([A-Za-z_][\w.]*)\}")
PLAIN_NAMES = ("last_reply", "last_said", "caller")  # no namespace
NAMESPACES = ("business", "vars")  # `event` too, where an event is at hand (`set:`)


def names_in(text: str) -> list[str]:
    """The placeholders of `text`, in order."""
    return _NAME.findall(text)


def is_templated(text: str) -> bool:
    return bool(_NAME.search(text))


def check_names(text: str, business: Iterable[str], variables: Iterable[str],
                allow_event: bool = False) -> list[tuple[str, str]]:
    """(problem, fix) for every placeholder that names nothing."""
    business, variables = set(business), set(variables)
    out = []
    for name in names_in(text):
        head, _, rest = name.partition(".")
        if name in PLAIN_NAMES or (head == "event" and allow_event and rest):
            continue
        if head == "business" and rest in business:
            continue
        if head == "vars" and rest in variables:
            continue
        if head == "business":
            fix = ("use one of: " + ", ".join(f"{{business.{k}}}" for k in sorted(business))
                   if business else "add the key under settings.business")
        elif head == "vars":
            fix = f"declare `{rest}:` under vars:, or use one of: " + (
                ", ".join(f"{{vars.{v}}}" for v in sorted(variables)) or "(none declared)")
        else:
            fix = ("write {business.<key>}, {vars.<name>}, {last_reply}, {last_said} or "
                   "{caller}" + (", or {event.<field>}" if allow_event else ""))
        out.append((f"unknown name {{{name}}}", fix))
    return out


def lookup(name: str, values: Mapping[str, Any]) -> Any:
    """The value of a dotted name in nested mappings; "" when a part is missing."""
    value: Any = values
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return ""
        value = value[part]
    return value


def render(text: str, values: Mapping[str, Any]) -> str:
    """`text` with every placeholder replaced by its value (missing ones by "")."""
    return _NAME.sub(lambda m: _spoken(lookup(m.group(1), values)), text)


def resolve(value: Any, values: Mapping[str, Any]) -> Any:
    """A `set:` value: a literal stays itself; "{x.y}" alone keeps the value's own type
    (a number stays a number); other templated text becomes text."""
    if not isinstance(value, str):
        return value
    whole = _NAME.fullmatch(value.strip())
    if whole:
        return lookup(whole.group(1), values)
    return render(value, values) if is_templated(value) else value


def _spoken(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def static_texts(prompts: Mapping[str, str], business: Mapping[str, Any] | None) -> list[str]:
    """The prompts whose words are the same on every call, as spoken: plain ones, and those
    naming only `{business.*}` (filled in now). These are worth caching as audio; prompts
    naming variables or the last reply are synthesised per call."""
    out = []
    values = {"business": dict(business or {})}
    for text in prompts.values():
        if all(name.startswith("business.") for name in names_in(text)):
            out.append(" ".join(render(text, values).split()))
    return out
