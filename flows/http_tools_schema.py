"""The schema of an `http_tools:` entry in flows.yaml: its keys and their validator.

`validate_http_tool_config` lists the problems of one entry as "key: problem" sentences;
`flows/loader.py` puts each on its line. The owner, `tools.http_tools`, builds the tool from
a validated entry with the same helpers (`parse_duration`, `ENV_REF`, `plain_json`).
`TOOL_NAME` is the rule for every tool name. Pure code (jsonschema checks the parameters'
schema); imports nothing of ours.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
KEYS = ("name", "description", "parameters", "url", "method", "headers", "timeout")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
DEFAULT_TIMEOUT, MAX_TIMEOUT = 10.0, 60.0

def parse_duration(value: Any) -> float:
    """Seconds from "5s", "500ms", "1.5s", "2m" or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a duration like '5s' or '500ms'")
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number / 1000 if unit == "ms" else number * 60 if unit == "m" else number


def validate_http_tool_config(config: Any) -> list[str]:
    """Every problem in one `http_tools` entry, as "key: problem" sentences ([] if fine)."""
    if not isinstance(config, Mapping):
        return ["must be a mapping with name, description, url and parameters"]
    problems = [f"{k}: unknown key{_suggest(k)}" for k in config if k not in KEYS]
    problems += [f"{k}: missing" for k in ("name", "description", "url") if k not in config]
    name = config.get("name")
    if "name" in config and not (isinstance(name, str) and TOOL_NAME.match(name)):
        problems.append(f"name: {name!r} must be 1-64 letters, digits, '_' or '-'")
    description = config.get("description")
    if "description" in config and not (isinstance(description, str) and description.strip()):
        problems.append("description: must be a non-empty string (the LLM reads it)")
    problems += _url_problems(config)
    method = config.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in METHODS:
        problems.append(f"method: {method!r} must be one of {', '.join(METHODS)}")
    problems += _parameters_problems(config.get("parameters", {"type": "object"}))
    problems += _headers_problems(config.get("headers", {}))
    if "timeout" in config:
        try:
            seconds = parse_duration(config["timeout"])
            if not 0 < seconds <= MAX_TIMEOUT:
                problems.append(f"timeout: must be more than 0 and at most {MAX_TIMEOUT:g}s")
        except ValueError as exc:
            problems.append(f"timeout: {exc}")
    return problems


def _suggest(key: Any) -> str:
    close = difflib.get_close_matches(str(key), KEYS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _url_problems(config: Mapping[str, Any]) -> list[str]:
    if "url" not in config:
        return []
    url = config["url"]
    if not isinstance(url, str):
        return ["url: must be a string"]
    if "${" in url:
        return ["url: ${VAR} references are only allowed in headers"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"url: {url!r} must be an absolute http:// or https:// URL"]
    if parts.username or parts.password:
        return ["url: must not contain credentials; send them in a header with ${VAR}"]
    return []


def _parameters_problems(schema: Any) -> list[str]:
    if not isinstance(schema, Mapping):
        return ["parameters: must be a JSON schema mapping with type: object"]
    try:
        plain_json(schema)
    except (TypeError, ValueError) as exc:
        return [f"parameters: must be plain JSON ({exc})"]
    from jsonschema import Draft202012Validator  # only when a flow declares http tools
    from jsonschema.exceptions import SchemaError

    problems = []
    if schema.get("type") != "object":
        problems.append("parameters: the schema's type must be 'object'")
    try:
        Draft202012Validator.check_schema(dict(schema))
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        problems.append(f"parameters{'.' + where if where else ''}: {exc.message}")
    return problems


def plain_json(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (YAML nodes may be dict subclasses)."""
    return json.loads(json.dumps(value))


def _headers_problems(headers: Any) -> list[str]:
    if not isinstance(headers, Mapping):
        return ["headers: must map header names to strings"]
    problems = []
    for key, value in headers.items():
        if not isinstance(key, str) or not _HEADER_NAME.match(key):
            problems.append(f"headers: {key!r} is not a valid header name")
        elif not isinstance(value, str):
            problems.append(f"headers.{key}: must be a string (quote it in YAML)")
        elif "${" in ENV_REF.sub("", value):
            problems.append(f"headers.{key}: environment references must look like ${{NAME}}")
    return problems
