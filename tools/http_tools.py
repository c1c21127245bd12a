"""HTTP tools declared under `http_tools:` in flows.yaml: a team's own system as a tool, no code.

The schema of one entry is the flow language's (`flows.http_tools_schema`, whose
`validate_http_tool_config` the loader uses); `validate_http_tools` checks a whole list
("path: problem", names that repeat or clash); `HttpTool.from_config` builds a tool that
the registry exports like any other.
Arguments are validated against the declared JSON schema before any request; GET sends
them as query parameters, other methods as a JSON body. Header values may reference
`${VAR}` environment variables, read at call time; a missing one is a `config_error` naming
the variable. Secret values are scrubbed from results and never logged; logs carry the tool
name, method, host and path only. Touches the network (httpx) and reads the environment.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from flows.http_tools_schema import (
    DEFAULT_TIMEOUT,
    ENV_REF,
    KEYS,
    MAX_TIMEOUT,
    METHODS,
    parse_duration,
    plain_json,
    validate_http_tool_config,
)
from tools.context import ToolContext
from tools.registry import Tool, ToolRegistry
from tools.result import ToolError
from tools.validation import validate_arguments

logger = logging.getLogger(__name__)
__all__ = ["DEFAULT_TIMEOUT", "KEYS", "MAX_TIMEOUT", "METHODS", "HttpTool", "HttpToolConfigError",
           "parse_duration", "register_http_tools", "validate_http_tool_config",
           "validate_http_tools"]

MAX_BODY_CHARS = 4000
REDACTED = "[redacted]"


class HttpToolConfigError(ValueError):
    """An `http_tools` entry is unusable; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid http tool: " + "; ".join(problems))
        self.problems = problems


def _located(index: int, config: Any, problem: str) -> str:
    joiner = "." if isinstance(config, Mapping) else ": "
    return f"http_tools[{index}]{joiner}{problem}"


def validate_http_tools(items: Any, *, reserved: Iterable[str] = ()) -> list[str]:
    """Problems in the whole `http_tools` list ("http_tools[i].key: problem"), incl. names
    that repeat or clash with `reserved` (e.g. the built-in tools)."""
    if items is None:
        return []
    if not isinstance(items, list):
        return ["http_tools: must be a list of tool definitions"]
    problems: list[str] = []
    seen = set(reserved)
    for i, item in enumerate(items):
        problems += [_located(i, item, p) for p in validate_http_tool_config(item)]
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str):
            if name in seen:
                problems.append(f"http_tools[{i}].name: a tool named {name!r} already exists")
            seen.add(name)
    return problems


def _scrub(value: Any, secrets: Iterable[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {_scrub(k, secrets): _scrub(v, secrets) for k, v in value.items()}
    return value


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)) and not (
        isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value)
    ):
        return json.dumps(value)
    return value


@dataclass(eq=False)
class HttpTool(Tool):
    """A tool that calls an HTTP endpoint with the (validated) arguments."""

    name: str
    description: str
    parameters: dict[str, Any]
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    request_timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HttpTool:
        """Build from one `http_tools` entry; raises `HttpToolConfigError`."""
        problems = validate_http_tool_config(config)
        if problems:
            raise HttpToolConfigError(problems)
        return cls(
            name=config["name"],
            description=config["description"].strip(),
            parameters=plain_json(config.get("parameters", {"type": "object", "properties": {}})),
            url=config["url"],
            method=config.get("method", "POST").upper(),
            headers=dict(config.get("headers", {})),
            request_timeout=parse_duration(config.get("timeout", DEFAULT_TIMEOUT)),
        )

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """The runner's default limit: a little over the request timeout, so ours fires first."""
        return self.request_timeout + 1.0

    @property
    def env_vars(self) -> list[str]:
        """Names of the environment variables the headers reference."""
        return sorted({m for v in self.headers.values() for m in ENV_REF.findall(v)})

    def missing_env(self, env: Mapping[str, str] | None = None) -> list[str]:
        env = os.environ if env is None else env
        return [name for name in self.env_vars if name not in env]

    @property
    def _where(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname}{parts.path or '/'}"

    def _resolve_headers(self) -> tuple[dict[str, str], list[str]]:
        missing = self.missing_env()
        if missing:
            raise ToolError(
                "config_error",
                f"HTTP tool {self.name!r} needs the environment variable {missing[0]}, "
                "which is not set",
                details={"missing_env": missing},
            )
        secrets = [os.environ[n] for n in self.env_vars if os.environ[n]]
        resolved = {k: ENV_REF.sub(lambda m: os.environ[m.group(1)], v)
                    for k, v in self.headers.items()}
        return resolved, sorted(secrets, key=len, reverse=True)

    async def invoke(self, args: dict[str, Any], context: ToolContext | None) -> Any:
        problem = validate_arguments(self.parameters, args)
        if problem is not None:
            raise ToolError(problem.code, problem.message, field=problem.field,
                            details=problem.details)
        headers, secrets = self._resolve_headers()
        request: dict[str, Any] = {"headers": {"Accept": "application/json", **headers}}
        if self.method == "GET":
            request["params"] = {k: _query_value(v) for k, v in args.items() if v is not None}
        else:
            request["json"] = args
        try:
            async with httpx.AsyncClient(timeout=self.request_timeout) as client:
                response = await client.request(self.method, self.url, **request)
        except httpx.TimeoutException:
            logger.warning("http tool %s: %s %s timed out", self.name, self.method, self._where)
            raise ToolError(
                "timeout",
                f"{self.name}: no answer within {self.request_timeout:g}s; "
                "whether it took effect is unknown",
            ) from None
        except httpx.HTTPError as exc:
            logger.warning("http tool %s: %s %s failed: %s", self.name, self.method,
                           self._where, type(exc).__name__)
            raise ToolError(
                "http_error", f"{self.name}: could not reach the service ({type(exc).__name__})"
            ) from None
        logger.info("http tool %s: %s %s -> %s", self.name, self.method, self._where,
                    response.status_code)
        body = self._body(response, secrets)
        if not response.is_success:
            raise ToolError(
                "http_error",
                f"{self.name}: the service answered HTTP {response.status_code}",
                details={"status_code": response.status_code, "body": body},
            )
        return {"status_code": response.status_code, "body": body}

    @staticmethod
    def _body(response: httpx.Response, secrets: list[str]) -> Any:
        """Parsed JSON or text, secrets scrubbed; longer than `MAX_BODY_CHARS` is cut (as text).

        Scrubbing happens before cutting, so no part of a secret can survive at the cut.
        """
        text = response.text
        if len(text) > MAX_BODY_CHARS:
            return _scrub(text, secrets)[:MAX_BODY_CHARS] + " [truncated]"
        if "json" in response.headers.get("content-type", "") or text[:1] in ("{", "["):
            try:
                return _scrub(response.json(), secrets)
            except ValueError:
                pass
        return _scrub(text, secrets)


def register_http_tools(
    registry: ToolRegistry, configs: Iterable[Mapping[str, Any]] | None
) -> list[HttpTool]:
    """Build every `http_tools` entry and add it to `registry`; raises on the first bad one."""
    built = []
    for i, config in enumerate(configs or []):
        try:
            http_tool = HttpTool.from_config(config)
        except HttpToolConfigError as exc:
            raise HttpToolConfigError([_located(i, config, p) for p in exc.problems]) from None
        registry.add(http_tool)
        built.append(http_tool)
    return built
