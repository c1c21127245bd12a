"""Read flows.yaml into a validated `Flow`, collecting every problem with its line and fix.

The file's shape: `name`, `initial`, `settings`, `prompts`, `counters`, `states` (each with
`enter`, `exit`, `timeout`, `on`), `any` (transitions every non-final state shares) and
`http_tools`. Graph-level checks (reachability, dead ends) live in `flows/lint.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.durations import parse_duration
from flows.errors import FlowError, FlowInvalid, did_you_mean
from flows.events import EVENTS, TIMER_EVENTS
from flows.http_tools_schema import validate_http_tool_config
from flows.ignore import parse_ignore
from flows.lint import lint_graph
from flows.model import Flow, StateSpec, Timeout, TransitionSpec
from flows.settings import parse_settings
from flows.steps import parse_guards, parse_steps
from flows.turns import state_policy
from flows.yaml_lines import YList, YMap, load_yaml, load_yaml_file

TOP_KEYS = ("version", "name", "description", "initial", "settings", "prompts", "counters",
            "states", "any", "http_tools", "vars")
STATE_KEYS = ("description", "final", "enter", "exit", "timeout", "on", "ignore", "turn")
TRANSITION_KEYS = ("to", "if", "unless", "do", "keep_tasks")


def load_flow(path: str | Path) -> Flow:
    """Load and validate a flow file; raise `FlowInvalid` listing every error."""
    flow, problems = check_flow(path)
    errors = [p for p in problems if p.severity == "error"]
    if errors or flow is None:
        raise FlowInvalid(errors or problems)
    return flow


def check_flow(path: str | Path) -> tuple[Flow | None, list[FlowError]]:
    """Load a flow file and return it (None when unusable) with every problem found."""
    raw, errors = load_yaml_file(path)
    return _checked(raw, errors, str(path))


def _checked(raw: Any, errors: list[FlowError],
             path: str) -> tuple[Flow | None, list[FlowError]]:
    """`_validate`, minus what a bad YAML value causes on its own line, and with any shape
    no check foresaw turned into one error instead of a traceback."""
    yaml_errors = list(errors)
    try:
        flow, errors = _validate(raw, errors, path)
    except Exception as exc:
        errors.append(FlowError(path, 1, f"dialflow could not check this file "
                                f"({type(exc).__name__}: {exc})",
                                "this is a bug in `dialflow check`: please report it with the "
                                "file; meanwhile compare the file with the default flows.yaml"))
        return None, errors
    noisy = {e.line for e in yaml_errors}
    return flow, [e for e in errors if e in yaml_errors or e.line not in noisy]


def load_flow_text(text: str, path: str = "<flow>") -> tuple[Flow | None, list[FlowError]]:
    """Parse and validate flow text; `path` is only used in messages."""
    raw, errors = load_yaml(text, path)
    return _checked(raw, errors, path)


def _validate(raw: Any, errors: list[FlowError],
              path: str) -> tuple[Flow | None, list[FlowError]]:
    if raw is None and not errors:
        errors.append(FlowError(path, 1, "the flow file is empty",
                                "start from the default flows.yaml"))
    if not isinstance(raw, YMap):
        if raw is not None:
            errors.append(FlowError(path, 1, "the flow file must be a mapping",
                                    "start the file with `name:`, `initial:` and `states:`"))
        return None, errors
    flow = _Parser(raw, path, errors).parse()
    if flow is not None:
        errors.extend(lint_graph(flow, complete=not errors))  # a typo: no follow-on errors
    return flow, errors


class _Parser:
    def __init__(self, raw: YMap, path: str, errors: list[FlowError]):
        self.raw, self.path, self.errors = raw, path, errors

    def error(self, line: int, message: str, fix: str = "") -> None:
        self.errors.append(FlowError(self.path, line, message, fix))

    def parse(self) -> Flow | None:
        raw = self.raw
        for key in raw:
            if key not in TOP_KEYS:
                self.error(raw.line_of(key), f"unknown top-level key '{key}'",
                           did_you_mean(key, TOP_KEYS))
        prompts = self._prompts(raw.get("prompts"))
        counters = self._counters(raw.get("counters"))
        settings = parse_settings(raw.get("settings"), self.path, raw.line_of("settings"),
                                  self.errors)
        states_raw = raw.get("states")
        if not isinstance(states_raw, YMap) or not states_raw:
            self.error(raw.line_of("states"), "the flow has no states",
                       "add `states:` with at least an initial and a final state")
            return None
        names = [str(n) for n in states_raw]
        from flows.steps import check_prompts  # here: keeps the import block as it was
        from flows.variables import parse_vars

        variables = parse_vars(raw.get("vars"), raw.line_of("vars"), self.error)
        ctx = _Names(names, prompts, counters, variables, settings.business)
        check_prompts(raw.get("prompts"), ctx, self.error)
        states: dict[str, StateSpec] = {}
        transitions: list[TransitionSpec] = []
        for name in names:
            spec = states_raw[name]
            state, own = self._state(name, spec, states_raw.line_of(name), ctx)
            states[name] = state
            transitions.extend(own)
        transitions.extend(self._any(raw.get("any"), states, ctx))
        initial = raw.get("initial")
        if initial is None:
            self.error(raw.line, "the flow has no initial state",
                       f"add `initial: {names[0]}`")
            initial = names[0]
        elif not isinstance(initial, str) or initial not in states:
            self.error(raw.line_of("initial"), f"initial state '{initial}' does not exist",
                       did_you_mean(str(initial), names))
            initial = names[0]
        http_tools = raw.get("http_tools") or ()
        self._check_http_tools(http_tools)
        return Flow(
            name=str(raw.get("name") or Path(self.path).stem), path=self.path,
            initial=str(initial), states=states, transitions=tuple(transitions),
            prompts=prompts, counters=counters, settings=settings,
            http_tools=tuple(dict(t) for t in http_tools if isinstance(t, dict)),
            vars=variables,
        )

    def _check_http_tools(self, raw: Any) -> None:
        if not raw:
            return
        if not isinstance(raw, YList):
            self.error(self.raw.line_of("http_tools"), "http_tools must be a list",
                       "start each tool with `- name: …`")
            return
        for index, item in enumerate(raw):
            line = raw.line_of(index)
            if not isinstance(item, YMap):
                self.error(line, "an http tool must be a mapping",
                           "give it name, description, parameters, url and method")
                continue
            for problem in validate_http_tool_config(dict(item)):
                key = next((k for k in item if k in problem), None)
                self.error(item.line_of(key) if key else line, f"http tool: {problem}",
                           "see the http_tools section of the README")

    def _prompts(self, raw: Any) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, YMap):
            self.error(self.raw.line_of("prompts"), "prompts must map names to text",
                       'write e.g. `greeting: "Thanks for calling…"`')
            return {}
        out = {}
        for key, text in raw.items():
            if not isinstance(text, str) or not text.strip():
                self.error(raw.line_of(key), f"prompt '{key}' has no text",
                           f'write `{key}: "what the agent says"`')
            else:
                out[key] = " ".join(text.split())
        return out

    def _counters(self, raw: Any) -> dict[str, int]:
        if raw is None:
            return {}
        if not isinstance(raw, YMap):
            self.error(self.raw.line_of("counters"), "counters must map names to a max",
                       "write e.g. `reprompts: {max: 2}`")
            return {}
        out = {}
        for key, spec in raw.items():
            value = spec.get("max") if isinstance(spec, dict) else None
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.error(raw.line_of(key), f"counter '{key}' needs a whole-number max",
                           f"write `{key}: {{max: 2}}`")
                continue
            out[key] = value
        return out

    def _state(self, name: str, spec: Any, line: int,
               ctx: _Names) -> tuple[StateSpec, list[TransitionSpec]]:
        if spec is None:
            spec = YMap()
            spec.line, spec.key_lines = line, {}
        if not isinstance(spec, YMap):
            self.error(line, f"state '{name}' must be a mapping",
                       "give it `enter:`, `timeout:` and `on:`, or `final: true`")
            return StateSpec(name=name, line=line), []
        for key in spec:
            if key not in STATE_KEYS:
                self.error(spec.line_of(key), f"unknown key '{key}' in state '{name}'",
                           did_you_mean(key, STATE_KEYS))
        enter = parse_steps(spec.get("enter"), spec.line_of("enter"), ctx, self.error)
        exit_ = parse_steps(spec.get("exit"), spec.line_of("exit"), ctx, self.error)
        timeout = self._timeout(name, spec.get("timeout"), spec.line_of("timeout"))
        ignore = parse_ignore(spec.get("ignore"), spec.line_of("ignore"), self.error)
        turn = (state_policy(spec["turn"], name, self.path, spec.line_of("turn"), self.errors)
                if "turn" in spec else {})
        state = StateSpec(name=name, final=bool(spec.get("final", False)),
                          description=str(spec.get("description") or ""), enter=enter,
                          exit=exit_, timeout=timeout, line=line, ignore=ignore,
                          turn=tuple(turn.items()))
        handlers = spec.get("on")
        transitions = []
        if handlers is not None:
            if not isinstance(handlers, YMap):
                self.error(spec.line_of("on"), f"`on:` of state '{name}' must map events",
                           "write `on:` then `event.name: next_state` lines")
            else:
                for event, value in handlers.items():
                    transitions.extend(self._handlers(name, event, value,
                                                      handlers.line_of(event), ctx))
        return state, transitions

    def _timeout(self, state: str, raw: Any, line: int) -> Timeout | None:
        if raw is None:
            return None
        fix = "write `timeout: {after: 8s, event: timer.silence}`"
        if not isinstance(raw, YMap) or "after" not in raw or "event" not in raw:
            self.error(line, f"the timeout of state '{state}' needs `after` and `event`", fix)
            return None
        try:
            after = parse_duration(raw["after"])
        except ValueError as exc:
            self.error(raw.line_of("after"), str(exc), "write a duration: 8s, 500ms or 2m")
            return None
        event = str(raw["event"])
        if event not in TIMER_EVENTS:
            self.error(raw.line_of("event"), f"'{event}' is not a timer event",
                       did_you_mean(event, TIMER_EVENTS))
            return None
        return Timeout(after=after, event=event, line=raw.line_of("after"))

    def _handlers(self, source: str, event: str, value: Any, line: int,
                  ctx: _Names, from_any: bool = False) -> list[TransitionSpec]:
        if event not in EVENTS:
            self.error(line, f"unknown event '{event}'", did_you_mean(event, EVENTS))
            return []
        if isinstance(value, (str, type(None), YMap)):
            items, lines = [value], [line]
        elif isinstance(value, YList):
            items, lines = list(value), [value.line_of(i) for i in range(len(value))]
        else:
            self.error(line, f"the handler of '{event}' must be a state, a mapping or a list",
                       "write `event: next_state` or `event: {to: next_state, do: [...]}`")
            return []
        out = []
        for item, item_line in zip(items, lines, strict=True):
            spec = self._transition(source, event, item, item_line, ctx, from_any)
            if spec is not None:
                out.append(spec)
        return out

    def _transition(self, source: str, event: str, item: Any, line: int, ctx: _Names,
                    from_any: bool) -> TransitionSpec | None:
        if item is None or isinstance(item, str):
            item_map: dict[str, Any] = {"to": item} if item is not None else {}
            key_line = {"to": line}
        elif isinstance(item, YMap):
            item_map, key_line = item, item.key_lines
            for key in item:
                if key not in TRANSITION_KEYS:
                    self.error(item.line_of(key), f"unknown key '{key}' in a transition",
                               did_you_mean(key, TRANSITION_KEYS))
        else:
            self.error(line, f"a transition on '{event}' must be a state name or a mapping",
                       "write `{to: state, if: guard, do: [actions]}`")
            return None
        dest = item_map.get("to")
        if dest is not None:
            dest = str(dest)
            if dest not in ctx.states:
                self.error(key_line.get("to", line), f"transition to unknown state '{dest}'",
                           did_you_mean(dest, ctx.states))
                return None
        guards = parse_guards(item_map.get("if"), key_line.get("if", line), False, ctx,
                              self.error)
        guards += parse_guards(item_map.get("unless"), key_line.get("unless", line), True, ctx,
                               self.error)
        actions = parse_steps(item_map.get("do"), key_line.get("do", line), ctx, self.error)
        keep = item_map.get("keep_tasks", False)
        if not isinstance(keep, bool):
            self.error(key_line.get("keep_tasks", line), "keep_tasks must be true or false",
                       "write `keep_tasks: true` to let the state's tasks go on in `to`")
        return TransitionSpec(event=event, source=source, dest=dest, guards=guards,
                              actions=actions, line=line, from_any=from_any,
                              keep_tasks=keep is True)

    def _any(self, raw: Any, states: dict[str, StateSpec], ctx: _Names) -> list[TransitionSpec]:
        """`any:` transitions apply to every non-final state other than their destination
        and those that `ignore:` the event, after the state's own transitions for it."""
        if raw is None:
            return []
        if not isinstance(raw, YMap):
            self.error(self.raw.line_of("any"), "`any:` must map events to transitions",
                       "write `any:` then `call.hangup: ended`")
            return []
        out = []
        for event, value in raw.items():
            for name, state in states.items():
                if state.final:
                    continue
                for spec in self._handlers(name, event, value, raw.line_of(event), ctx, True):
                    if spec.dest != name and event not in state.ignore:  # ignore: wins
                        out.append(spec)
                if event not in EVENTS:
                    break  # reported once
        _dedupe(self.errors)
        return out


def _dedupe(errors: list[FlowError]) -> None:
    """`any:` handlers are parsed once per state; keep each problem once, in order."""
    errors[:] = list(dict.fromkeys(errors))


class _Names:
    """The names a step or guard argument may refer to."""

    def __init__(self, states: list[str], prompts: dict[str, str], counters: dict[str, int],
                 variables: dict[str, Any] | None = None, business: Any = None):
        self.states, self.prompts, self.counters = states, prompts, counters
        self.vars = variables or {}
        self.business = dict(business) if isinstance(business, dict) else None

