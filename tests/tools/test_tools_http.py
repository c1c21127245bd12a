"""HTTP tools from flows.yaml config, against a local server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fake_http_server import FakeServer, FakeService

from tools.builtin import BUILTIN_TOOL_NAMES, build_registry
from tools.http_tools import (
    MAX_BODY_CHARS,
    HttpTool,
    HttpToolConfigError,
    parse_duration,
    validate_http_tool_config,
    validate_http_tools,
)
from tools.result import ToolError
from tools.runner import run_tool

SECRET = "sk-test-8d1f0c9e"


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeServer() as svc:
        yield svc


def config(service: FakeService, path: str = "/ok", **extra: Any) -> dict[str, Any]:
    return {
        "name": "check_insurance",
        "description": "Check whether an insurance plan is accepted.",
        "parameters": {
            "type": "object",
            "properties": {"plan": {"type": "string"}, "members": {"type": "integer"}},
            "required": ["plan"],
        },
        "url": service.base_url + path,
        "method": "POST",
        "headers": {"Authorization": "Bearer ${INSURANCE_API_KEY}"},
        "timeout": "5s",
        **extra,
    }


def run(cfg: dict[str, Any], args: Any) -> dict[str, Any]:
    registry = build_registry([cfg])
    return asyncio.run(run_tool(cfg["name"], args, registry=registry)).to_llm()


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSURANCE_API_KEY", SECRET)


def test_post_sends_json_and_env_header(service: FakeService, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    out = run(config(service), {"plan": "gold", "members": 2})
    assert out["ok"], out
    assert out["data"]["status_code"] == 200
    [request] = service.requests
    assert request.method == "POST"
    assert request.body == {"plan": "gold", "members": 2}
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    # The service echoed the header back; the secret is scrubbed before the LLM sees it.
    assert out["data"]["body"]["auth"] == "Bearer [redacted]"
    assert SECRET not in str(out)
    assert SECRET not in caplog.text
    assert "check_insurance" in caplog.text


def test_get_sends_query_parameters(service: FakeService) -> None:
    out = run(config(service, method="GET"), {"plan": "gold plus", "members": 3})
    assert out["ok"]
    [request] = service.requests
    assert (request.method, request.body) == ("GET", None)
    assert request.query == {"plan": ["gold plus"], "members": ["3"]}


def test_plain_text_answers_are_returned_as_text(service: FakeService) -> None:
    assert run(config(service, "/text"), {"plan": "x"})["data"]["body"] == "plain words"


def test_long_answers_are_cut_for_the_llm(service: FakeService) -> None:
    body = run(config(service, "/big"), {"plan": "x"})["data"]["body"]
    assert isinstance(body, str) and body.endswith(" [truncated]")
    assert len(body) == MAX_BODY_CHARS + len(" [truncated]")


@pytest.mark.parametrize(
    ("args", "field"),
    [({}, "plan"), ({"plan": 5}, "plan"), ({"plan": "x", "members": "two"}, "members")],
)
def test_bad_arguments_send_nothing(service: FakeService, args: dict, field: str) -> None:
    out = run(config(service), args)
    assert (out["error"]["code"], out["error"]["field"]) == ("invalid_arguments", field)
    assert service.requests == []


def test_invoke_validates_even_when_called_directly(service: FakeService) -> None:
    http_tool = HttpTool.from_config(config(service))
    with pytest.raises(ToolError, match="missing required argument") as info:
        asyncio.run(http_tool.invoke({}, None))
    assert info.value.code == "invalid_arguments"
    assert service.requests == []


def test_missing_env_var_is_named_and_nothing_is_sent(
    service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSURANCE_API_KEY")
    out = run(config(service), {"plan": "gold"})
    assert out["error"]["code"] == "config_error"
    assert "INSURANCE_API_KEY" in out["error"]["message"]
    assert service.requests == []
    assert HttpTool.from_config(config(service)).missing_env() == ["INSURANCE_API_KEY"]


def test_non_2xx_is_a_structured_error_without_secrets(service: FakeService) -> None:
    out = run(config(service, "/fail"), {"plan": "gold"})
    error = out["error"]
    assert (error["code"], error["status_code"]) == ("http_error", 503)
    assert "503" in error["message"]
    assert error["body"]["auth_seen"] == "Bearer [redacted]"
    assert SECRET not in str(out)


def test_timeout_is_a_structured_error(service: FakeService) -> None:
    out = run(config(service, "/slow", timeout="100ms"), {"plan": "gold"})
    assert out["error"]["code"] == "timeout"
    assert "check_insurance" in out["error"]["message"]
    assert len(service.requests) == 1


def test_unreachable_service_is_an_http_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = {**config(FakeService(f"http://127.0.0.1:{port}")), "url": f"http://127.0.0.1:{port}/x"}
    out = run(cfg, {"plan": "gold"})
    assert out["error"]["code"] == "http_error"
    assert "could not reach" in out["error"]["message"]


def test_http_tools_export_both_schema_formats(service: FakeService) -> None:
    registry = build_registry([config(service)])
    [anthropic] = registry.anthropic_schemas(["check_insurance"])
    [openai] = registry.openai_schemas(["check_insurance"])
    assert anthropic["input_schema"]["required"] == ["plan"]
    assert openai["function"]["parameters"] == anthropic["input_schema"]
    assert openai["function"]["description"] == "Check whether an insurance plan is accepted."


def test_valid_config_has_no_problems(service: FakeService) -> None:
    assert validate_http_tool_config(config(service)) == []
    assert validate_http_tools([config(service)], reserved=BUILTIN_TOOL_NAMES) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"method": "FETCH"}, "method: 'FETCH' must be one of"),
        ({"timeout": "five"}, "timeout: 'five' is not a duration"),
        ({"timeout": "0s"}, "timeout: must be more than 0"),
        ({"timeout": "10m"}, "timeout: must be more than 0 and at most 60s"),
        ({"url": "ftp://example.test/x"}, "url: 'ftp://example.test/x' must be an absolute"),
        ({"url": "https://user:pw@example.test/"}, "url: must not contain credentials"),
        ({"url": "https://example.test/${TOKEN}"}, "url: ${VAR} references are only allowed"),
        ({"headers": {"X-Key": "${lower-case}"}}, "headers.X-Key: environment references"),
        ({"headers": {"X-Key": 5}}, "headers.X-Key: must be a string"),
        ({"headers": {"Bad Header": "x"}}, "headers: 'Bad Header' is not a valid header name"),
        ({"parameters": {"type": "array"}}, "parameters: the schema's type must be 'object'"),
        ({"parameters": {"type": "object", "required": "plan"}}, "parameters.required:"),
        ({"name": "check insurance"}, "name: 'check insurance' must be"),
        ({"parameters": {"type": "object", "default": {1, 2}}}, "parameters: must be plain JSON"),
        ({"description": " "}, "description: must be a non-empty string"),
        ({"secret": "x"}, "secret: unknown key"),
        ({"header": {}}, "header: unknown key (did you mean 'headers'?)"),
    ],
)
def test_config_problems(service: FakeService, change: dict, expected: str) -> None:
    cfg = {**config(service), **change}
    problems = validate_http_tool_config(cfg)
    assert any(p.startswith(expected) for p in problems), problems
    with pytest.raises(HttpToolConfigError) as info:
        build_registry([cfg])
    assert info.value.problems == [f"http_tools[0].{p}" for p in problems]


def test_section_problems_name_the_entry(service: FakeService) -> None:
    first = config(service)
    clash = {**config(service), "name": "book_appointment"}
    problems = validate_http_tools([first, first, clash, "nope"], reserved=BUILTIN_TOOL_NAMES)
    assert problems == [
        "http_tools[1].name: a tool named 'check_insurance' already exists",
        "http_tools[2].name: a tool named 'book_appointment' already exists",
        "http_tools[3]: must be a mapping with name, description, url and parameters",
    ]
    assert validate_http_tools({"a": 1}) == ["http_tools: must be a list of tool definitions"]
    with pytest.raises(ValueError, match="already registered"):
        build_registry([clash])


def test_missing_keys() -> None:
    assert validate_http_tool_config({}) == [
        "name: missing", "description: missing", "url: missing"
    ]


def test_parse_duration() -> None:
    assert [parse_duration(v) for v in ("5s", "500ms", "1.5s", "2m", 3, " 7 ")] == [
        5, 0.5, 1.5, 120, 3, 7
    ]
    with pytest.raises(ValueError):
        parse_duration(True)
