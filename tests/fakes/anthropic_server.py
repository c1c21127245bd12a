"""A fake Anthropic Messages API on 127.0.0.1 for tests, driven by the real `anthropic` SDK.

`FakeAnthropicServer` runs `http.server` in a background thread (the house style of
`openai_server`) and answers `POST /v1/messages` with `stream: true` the way Anthropic
does: chunked server-sent events `message_start`, `ping`, `content_block_start` /
`content_block_delta` (`text_delta`, `input_json_delta`) / `content_block_stop`,
`message_delta` (with `stop_reason`) and `message_stop`. Each request takes the next
scripted answer (`script(...)`): a `Reply` of text pieces and `ToolUse`s, with stream
controls (`Gate`, `Pause`, `Cut`, `Stall`) and an in-stream `ErrorEvent`; or an
`HttpError` (429, 500, 529 ... with Retry-After). It checks the API key (`x-api-key`, or
`Authorization: Bearer` as the SDK 2.x sends it), the version header, the sampling
parameters API version 2026-10-21 no longer accepts (`temperature`, `top_p`, `top_k`), and
the history rules (alternating roles, non-empty text, every `tool_use` answered by a
`tool_result` at the start of the next message), answering 400 like the real API, and
records every request. Binds only to 127.0.0.1; touches nothing else.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_http import ThreadedFake, routing_handler
from tests.fakes.openai_server import (
    Control,
    Cut,
    Gate,
    Pause,
    RecordedRequest,
    Responder,
    SseStream,
    Stall,
    split_pieces,
)

__all__ = ["Cut", "ErrorEvent", "FakeAnthropicServer", "Gate", "HttpError", "Pause", "Reply",
           "Stall", "ToolUse", "message_problems"]

SAMPLING = ("temperature", "top_p", "top_k")
SAMPLING_REMOVED = "2026-10-21"  # the API version that rejects sampling parameters
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 413: "request_too_large",
               429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}


@dataclass(frozen=True)
class ToolUse:
    """A `tool_use` block: its input JSON streamed in `pieces` `input_json_delta`s."""

    name: str
    input: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    pieces: int = 3


@dataclass(frozen=True)
class ErrorEvent:
    """An `event: error` in the middle of the stream (e.g. overloaded), which then ends."""

    kind: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass(frozen=True)
class HttpError:
    """Answer the request with this status and Anthropic's error body."""

    status: int
    kind: str | None = None
    message: str = "scripted failure"
    retry_after_ms: int | None = 1


class Reply:
    """One streamed message: text pieces (str), `ToolUse`s, `ErrorEvent` and controls."""

    def __init__(self, *steps: str | ToolUse | ErrorEvent | Control,
                 stop_reason: str | None = None) -> None:
        self.steps = steps
        self.stop_reason = stop_reason


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content) if isinstance(content, list) else []


def message_problems(body: Any) -> list[str]:
    """What the Messages API would reject in this request (the parts this fake knows)."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    problems = [f"{key}: field required" for key in ("model", "max_tokens", "messages")
                if key not in body]
    system = body.get("system")
    if isinstance(system, list):
        problems += [f"system.{i}: text blocks must be non-empty"
                     for i, b in enumerate(system) if not str(b.get("text", "")).strip()]
    for i, tool in enumerate(body.get("tools") or []):
        if not tool.get("name") or "input_schema" not in tool:
            problems.append(f"tools.{i}: name and input_schema are required")
    messages = body.get("messages") or []
    if not messages:
        return [*problems, "messages: at least one message is required"]
    expected_role = "user"
    open_tools: list[str] = []
    for i, message in enumerate(messages):
        role, blocks = message.get("role"), _blocks(message.get("content"))
        if role != expected_role:
            problems.append(f"messages.{i}: expected role {expected_role!r}, got {role!r}")
        expected_role = "assistant" if role == "user" else "user"
        if not blocks:
            problems.append(f"messages.{i}: content must not be empty")
        results = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
        leading = 0
        while leading < len(blocks) and blocks[leading].get("type") == "tool_result":
            leading += 1
        if open_tools and (sorted(results) != sorted(open_tools) or leading != len(results)):
            problems.append(f"messages.{i}: tool_use ids {open_tools} need tool_result blocks "
                            "at the start of the next message")
        elif results and not open_tools:
            problems.append(f"messages.{i}: tool_result for no preceding tool_use")
        for j, block in enumerate(blocks):
            if block.get("type") == "text" and not str(block.get("text", "")).strip():
                problems.append(f"messages.{i}.content.{j}: text blocks must be non-empty")
        open_tools = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
    return problems


@dataclass
class FakeAnthropicServer(ThreadedFake):
    """Start with `with FakeAnthropicServer(api_key=...) as server:`; pass `server.base_url`."""

    api_key: str | None = None
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._script: list[Reply | HttpError] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.finished = 0  # streams that got as far as message_stop

    # --- lifecycle -------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return routing_handler(self._handle)

    def _before_stop(self) -> None:
        self._stopping.set()

    # --- scripting -------------------------------------------------------------------

    def script(self, *responses: Reply | HttpError) -> None:
        """Queue the answers to the next requests, in order."""
        with self._lock:
            self._script.extend(responses)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the Messages requests received, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path == "/v1/messages"]

    # --- serving ---------------------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        path = http.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in http.headers.items()}
        with self._lock:
            self.requests.append(RecordedRequest(http.command, path, headers, body))
        # The client may give up mid-answer (its timeout fired, or the test ended).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(http, path, headers, body)

    def _answer(self, http: BaseHTTPRequestHandler, path: str, headers: dict[str, str],
                body: Any) -> None:
        if path != "/v1/messages":
            self._error(http, HttpError(404, message=f"no route POST {path}"))
            return
        keys = {headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer ")}
        if self.api_key is not None and self.api_key not in keys:
            self._error(http, HttpError(401, message="invalid x-api-key"))
            return
        version = headers.get("anthropic-version", "")
        if not version:
            self._error(http, HttpError(400, message="anthropic-version header is required"))
            return
        problems = message_problems(body)
        if version >= SAMPLING_REMOVED and isinstance(body, dict):
            problems += [f"{key}: Extra inputs are not permitted" for key in SAMPLING
                         if key in body]
        if problems:
            self._error(http, HttpError(400, message="; ".join(problems)))
            return
        if body.get("stream") is not True:
            self._error(http, HttpError(400, message="this fake only streams"))
            return
        with self._lock:
            answer = self._script.pop(0) if self._script else None
        if answer is None:
            self._error(http, HttpError(400, message="the fake has no scripted reply left"))
        elif isinstance(answer, HttpError):
            self._error(http, answer)
        else:
            self._stream(http, body, answer)

    def _error(self, http: BaseHTTPRequestHandler, error: HttpError) -> None:
        kind = error.kind or ERROR_TYPES.get(error.status, "api_error")
        extra = {"request-id": "req_fake"}
        if error.retry_after_ms is not None:
            extra["retry-after-ms"] = str(error.retry_after_ms)
        payload = {"type": "error", "error": {"type": kind, "message": error.message}}
        Responder(http).json(error.status, payload, extra)

    def _stream(self, http: BaseHTTPRequestHandler, body: dict[str, Any], reply: Reply) -> None:
        stream = SseStream(http, self._stopping)

        def send(data: dict[str, Any]) -> None:
            stream.send(data, event=data["type"])

        send({"type": "message_start", "message": {
            "id": f"msg_fake_{len(self.requests)}", "type": "message", "role": "assistant",
            "model": body["model"], "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 50, "output_tokens": 1,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}})
        send({"type": "ping"})
        index, text_open, tools = 0, False, 0
        for step in reply.steps:
            if isinstance(step, str):
                if not text_open:
                    send({"type": "content_block_start", "index": index,
                          "content_block": {"type": "text", "text": ""}})
                    text_open = True
                send({"type": "content_block_delta", "index": index,
                      "delta": {"type": "text_delta", "text": step}})
            elif isinstance(step, ToolUse):
                if text_open:
                    send({"type": "content_block_stop", "index": index})
                    index, text_open = index + 1, False
                tools += 1
                send({"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": step.id or f"toolu_fake_{len(self.requests)}_{tools}",
                    "name": step.name, "input": {}}})
                for piece in split_pieces(json.dumps(step.input), step.pieces):
                    send({"type": "content_block_delta", "index": index,
                          "delta": {"type": "input_json_delta", "partial_json": piece}})
                send({"type": "content_block_stop", "index": index})
                index += 1
            elif isinstance(step, ErrorEvent):
                send({"type": "error", "error": {"type": step.kind, "message": step.message}})
                stream.end()
                return
            elif not stream.control(step):
                return
        if text_open:
            send({"type": "content_block_stop", "index": index})
        stop = reply.stop_reason or ("tool_use" if tools else "end_turn")
        send({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
              "usage": {"output_tokens": 20}})
        with self._lock:  # counted before the client can see the end
            self.finished += 1
        send({"type": "message_stop"})
        stream.end()
