"""Derive a tool's JSON schema from a Python function: signature, type hints, Google docstring.

Supported hints: str, int, float, bool, datetime.date ("format: date"), datetime.datetime
("format: date-time"), datetime.time ("HH:MM" string), Literal[...], Enum subclasses,
list[T], dict[str, T], `T | None` / Optional[T] (nullable), and `Annotated[T, {...}]` whose
dict metadata is merged into the property schema (e.g. `{"minLength": 1}`); `text_rules`
builds that metadata for free text: bounded length, not blank, no control characters.
Also builds the converters that turn validated JSON values back into those Python types.
Pure code: imports nothing from the project and touches nothing outside itself.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$(?!\n)"
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"  # C0, DEL, C1, line/paragraph separators
_CONTROL_BUT_LINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # the same, \t \n \r allowed
# Both match in linear time (a blank start, one visible character, then no control
# character), so a long hostile string cannot make validation backtrack for long.
ONE_LINE_TEXT_PATTERN = rf"^ *[^\s{_CONTROL}][^{_CONTROL}]*$(?!\n)"  # (Python's $ ends at \n)
MULTILINE_TEXT_PATTERN = rf"^[ \t\r\n]*[^\s{_CONTROL_BUT_LINES}][^{_CONTROL_BUT_LINES}]*$"
TEXT_PATTERNS = (ONE_LINE_TEXT_PATTERN, MULTILINE_TEXT_PATTERN)
Converter = Callable[[Any], Any]

_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Returns|Return|Raises|Yields|Examples?|Notes?|"
    r"Warnings?|See Also|Todo|Attributes):\s*$"
)
_ARG_LINE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def text_rules(max_length: int, *, multiline: bool = False) -> dict[str, Any]:
    """`Annotated` metadata for a free-text argument: 1 to `max_length` characters, not
    blank, no control characters (newlines only when `multiline`)."""
    pattern = MULTILINE_TEXT_PATTERN if multiline else ONE_LINE_TEXT_PATTERN
    return {"minLength": 1, "maxLength": max_length, "pattern": pattern}


class ToolDefinitionError(TypeError):
    """A function cannot be turned into a tool (missing hint, unsupported type, no docstring)."""


@dataclass(frozen=True)
class DerivedSignature:
    """Everything the registry needs from a function."""

    description: str
    parameters: dict[str, Any]
    converters: dict[str, Converter] = field(default_factory=dict)
    context_param: str | None = None


def parse_google_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {param: description})."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    desc_lines: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    arg_indent: int | None = None
    current: str | None = None
    for raw in lines:
        stripped = raw.strip()
        header = _SECTION.match(stripped)
        if header and len(raw) - len(raw.lstrip()) == 0:
            section = header.group(1)
            arg_indent, current = None, None
            continue
        if section is None:
            desc_lines.append(stripped)
            continue
        if section not in ("Args", "Arguments", "Parameters", "Params") or not stripped:
            continue
        indent = len(raw) - len(raw.lstrip())
        match = _ARG_LINE.match(stripped)
        if match and (arg_indent is None or indent <= arg_indent):
            arg_indent = indent
            current = match.group(1)
            args[current] = match.group(2).strip()
        elif current is not None:
            args[current] = (args[current] + " " + stripped).strip()
    return _join_paragraphs(desc_lines), args


def _join_paragraphs(lines: list[str]) -> str:
    paragraphs: list[str] = []
    buf: list[str] = []
    for line in [*lines, ""]:
        if line:
            buf.append(line)
        elif buf:
            paragraphs.append(" ".join(buf))
            buf = []
    return "\n\n".join(paragraphs)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        out = {**schema, "type": [kind, "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [schema, {"type": "null"}]}


def _maybe_none(conv: Converter | None) -> Converter | None:
    if conv is None:
        return None
    return lambda value: None if value is None else conv(value)


def _literal_schema(values: tuple[Any, ...]) -> dict[str, Any]:
    kinds = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("integer")
        elif isinstance(value, float):
            kinds.add("number")
        elif isinstance(value, str):
            kinds.add("string")
        else:
            raise ToolDefinitionError(f"Literal value {value!r} is not JSON-able")
    schema: dict[str, Any] = {"enum": list(values)}
    if len(kinds) == 1:
        schema = {"type": kinds.pop(), **schema}
    return schema


def type_to_schema(hint: Any) -> tuple[dict[str, Any], Converter | None]:
    """JSON schema for one type hint, plus a converter from JSON to that type (or None)."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(hint)
        schema, conv = type_to_schema(base)
        for item in meta:
            if isinstance(item, dict):
                schema = {**schema, **item}
        return schema, conv
    if origin is typing.Literal:
        return _literal_schema(typing.get_args(hint)), None
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(hint)
        non_null = [m for m in members if m is not type(None)]
        if len(non_null) == 1 and len(members) == 2:
            schema, conv = type_to_schema(non_null[0])
            return _nullable(schema), _maybe_none(conv)
        parts = [type_to_schema(m) for m in members]
        if any(conv is not None for _, conv in parts):
            raise ToolDefinitionError(f"unions of converted types are not supported: {hint!r}")
        return {"anyOf": [schema for schema, _ in parts]}, None
    if origin in (list, tuple, set, frozenset) or hint in (list,):
        args = typing.get_args(hint)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise ToolDefinitionError(f"only tuple[T, ...] is supported, not {hint!r}")
        if not args:
            raise ToolDefinitionError(f"give the item type of {hint!r}, e.g. list[str]")
        item_schema, item_conv = type_to_schema(args[0])
        container = origin or list

        def convert_items(values: list[Any]) -> Any:
            items = values if item_conv is None else [item_conv(v) for v in values]
            return container(items)

        return {"type": "array", "items": item_schema}, convert_items
    if origin is dict:
        key, value = typing.get_args(hint) or (None, None)
        if key is not str:
            raise ToolDefinitionError(f"dict keys must be str: {hint!r}")
        value_schema, value_conv = type_to_schema(value)
        conv = None
        if value_conv is not None:
            conv = lambda d: {k: value_conv(v) for k, v in d.items()}  # noqa: E731
        return {"type": "object", "additionalProperties": value_schema}, conv
    return _plain_type_schema(hint)


def _plain_type_schema(hint: Any) -> tuple[dict[str, Any], Converter | None]:
    if hint is bool:
        return {"type": "boolean"}, None
    if hint is int:
        return {"type": "integer"}, None
    if hint is float:
        return {"type": "number"}, float
    if hint is str:
        return {"type": "string"}, None
    if hint is dt.datetime:
        return {"type": "string", "format": "date-time"}, dt.datetime.fromisoformat
    if hint is dt.date:
        return {"type": "string", "format": "date"}, dt.date.fromisoformat
    if hint is dt.time:
        return {"type": "string", "pattern": HHMM_PATTERN}, dt.time.fromisoformat
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = tuple(member.value for member in hint)
        return _literal_schema(values), hint
    raise ToolDefinitionError(f"unsupported type hint for a tool parameter: {hint!r}")


def derive_signature(
    fn: Callable[..., Any], *, context_types: tuple[type, ...] = ()
) -> DerivedSignature:
    """Build the parameters schema of `fn`; parameters typed as a `context_types` are skipped."""
    name = getattr(fn, "__name__", repr(fn))
    description, arg_docs = parse_google_docstring(inspect.getdoc(fn))
    if not description:
        raise ToolDefinitionError(f"tool {name!r} needs a docstring saying what it does")
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except NameError as exc:
        raise ToolDefinitionError(f"tool {name!r}: cannot resolve a type hint ({exc})") from exc
    properties: dict[str, Any] = {}
    required: list[str] = []
    converters: dict[str, Converter] = {}
    context_param: str | None = None
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ToolDefinitionError(
                f"tool {name!r}: parameter {param.name!r} must be a plain named parameter"
            )
        if param.name not in hints:
            raise ToolDefinitionError(f"tool {name!r}: parameter {param.name!r} needs a type hint")
        hint = hints[param.name]
        if isinstance(hint, type) and context_types and issubclass(hint, context_types):
            context_param = param.name
            continue
        schema, conv = type_to_schema(hint)
        if arg_docs.get(param.name):
            schema = {**schema, "description": arg_docs[param.name]}
        if param.default is param.empty:
            required.append(param.name)
        elif param.default is not None and isinstance(param.default, (str, int, float, bool)):
            schema = {**schema, "default": param.default}
        properties[param.name] = schema
        if conv is not None:
            converters[param.name] = conv
    unknown = sorted(set(arg_docs) - set(properties) - {context_param})
    if unknown:
        raise ToolDefinitionError(
            f"tool {name!r}: the docstring documents unknown parameters {unknown}"
        )
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    return DerivedSignature(description, parameters, converters, context_param)
