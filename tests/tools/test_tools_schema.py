"""Schema derivation from signatures and docstrings, and export in both LLM formats."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Literal, Optional

import pytest

from tools.builtin import BUILTIN_TOOL_NAMES, build_registry
from tools.context import ToolContext
from tools.registry import FunctionTool, ToolRegistry, tool
from tools.schema import ToolDefinitionError, parse_google_docstring


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@tool
def everything(
    ctx: ToolContext,
    text: str,
    count: int,
    ratio: float,
    flag: bool,
    day: dt.date,
    at: dt.time,
    when: dt.datetime,
    mode: Literal["fast", "slow"],
    color: Color,
    tags: list[str],
    note: Optional[str] = None,  # noqa: UP045 - Optional must be supported too
    level: int | None = None,
    short: Annotated[str, {"maxLength": 5}] = "abc",
) -> dict:
    """Exercise every supported type.

    A second paragraph of description.

    Args:
        text: Some text.
        count: How many, spread over
            two lines.
        ratio (float): A ratio.
        day: A day.

    Returns:
        Nothing useful.
    """
    return {}


def test_types_map_to_json_schema() -> None:
    props = everything.parameters["properties"]
    assert props["text"] == {"type": "string", "description": "Some text."}
    assert props["count"] == {"type": "integer", "description": "How many, spread over two lines."}
    assert props["ratio"] == {"type": "number", "description": "A ratio."}
    assert props["flag"] == {"type": "boolean"}
    assert props["day"] == {"type": "string", "format": "date", "description": "A day."}
    assert props["at"]["type"] == "string" and "pattern" in props["at"]
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert props["color"] == {"type": "string", "enum": ["red", "blue"]}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["note"] == {"type": ["string", "null"]}
    assert props["level"] == {"type": ["integer", "null"]}
    assert props["short"] == {"type": "string", "maxLength": 5, "default": "abc"}


def test_context_is_hidden_and_required_follows_defaults() -> None:
    params = everything.parameters
    assert "ctx" not in params["properties"]
    assert everything.context_param == "ctx"
    assert params["required"] == [
        "text", "count", "ratio", "flag", "day", "at", "when", "mode", "color", "tags",
    ]
    assert params["additionalProperties"] is False
    assert everything.description == (
        "Exercise every supported type.\n\nA second paragraph of description."
    )


def test_anthropic_and_openai_formats() -> None:
    registry = ToolRegistry([everything])
    [anthropic] = registry.anthropic_schemas()
    [openai] = registry.openai_schemas()
    assert set(anthropic) == {"name", "description", "input_schema"}
    assert anthropic["name"] == "everything"
    assert anthropic["input_schema"] == everything.parameters
    assert openai == {
        "type": "function",
        "function": {
            "name": "everything",
            "description": everything.description,
            "parameters": everything.parameters,
        },
    }
    anthropic["input_schema"]["properties"].clear()  # exports are copies
    assert everything.parameters["properties"]


def test_builtin_tools_are_registered_with_context_hidden() -> None:
    registry = build_registry()
    assert set(registry.names()) == BUILTIN_TOOL_NAMES == {
        "book_appointment", "check_appointment", "cancel_appointment", "escalate_to_human",
        "reschedule_appointment", "check_availability",
    }
    for schema in registry.anthropic_schemas():
        assert "ctx" not in schema["input_schema"]["properties"]
        assert schema["description"]
    book = registry.openai_schemas(["book_appointment"])[0]["function"]["parameters"]
    assert book["required"] == ["name", "phone", "date", "time", "reason"]
    assert book["properties"]["date"]["format"] == "date"
    with pytest.raises(KeyError, match="nope"):
        registry.anthropic_schemas(["nope"])


def test_decorator_options_and_registry_decorator() -> None:
    registry = ToolRegistry()

    @registry.tool(name="lookup-v2", timeout=3)
    def lookup(code: str) -> str:
        """Look a code up."""
        return code

    assert isinstance(lookup, FunctionTool)
    assert registry.get("lookup-v2") is lookup and lookup.timeout == 3
    assert lookup("x") == "x"
    with pytest.raises(ValueError, match="already registered"):
        registry.add(lookup)


def test_docstring_parser_handles_sections() -> None:
    desc, args = parse_google_docstring(
        """Summary line.

        Args:
            a (int): First.
            b: Second
                continues.

        Raises:
            ValueError: never.
        """
    )
    assert desc == "Summary line."
    assert args == {"a": "First.", "b": "Second continues."}


def _no_doc(x: str) -> None:
    pass


def _no_hint(x) -> None:  # type: ignore[no-untyped-def]
    """Doc."""


def _bad_type(x: object) -> None:
    """Doc."""


def _varargs(*xs: str) -> None:
    """Doc."""


def _typo(x: str) -> None:
    """Doc.

    Args:
        y: not a parameter.
    """


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (_no_doc, "needs a docstring"),
        (_no_hint, "needs a type hint"),
        (_bad_type, "unsupported type hint"),
        (_varargs, "plain named parameter"),
        (_typo, "unknown parameters"),
    ],
)
def test_bad_definitions_fail_at_decoration(fn, message: str) -> None:
    with pytest.raises(ToolDefinitionError, match=message):
        tool(fn)


def test_bad_tool_name_is_rejected() -> None:
    with pytest.raises(ToolDefinitionError, match="must match"):
        tool(name="has space")(_bad_name_target)


def _bad_name_target(x: str) -> None:
    """Doc."""
