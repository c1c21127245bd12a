"""Bounds on YAML input, checked on the parser's event stream before anything is built.

A flow file or event script comes from a person or a pull request, so it may be hostile or
just broken: deeply nested (the composer recurses), recursive or exponential aliases
("billion laughs"), tags that name Python objects, control characters. `scan_events` walks
PyYAML's (non-recursive) event stream once and reports the first such problem with its line;
`yaml_problem` turns a PyYAML error into one line and a fix a person can act on.
Imports nothing of ours but the error type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from flows.errors import FlowError

MAX_DEPTH = 64  # the default flow nests 6 deep
MAX_VALUES = 100_000  # keys, values and list items, counting every alias as the whole copy
_STD = "tag:yaml.org,2002:"
SCALAR_TAGS = frozenset({"!", *(_STD + t for t in ("str", "int", "float", "bool", "null",
                                                     "timestamp"))})
COLLECTION_TAGS = frozenset({"!", _STD + "map", _STD + "seq"})


class YamlLimit(Exception):
    """The input breaks a bound; carries the ready-made error."""

    def __init__(self, error: FlowError):
        super().__init__(str(error))
        self.error = error


@dataclass
class _Frame:
    anchor: str | None
    size: int = 1


@dataclass
class _Scan:
    path: str
    stack: list[_Frame] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # anchor -> values it expands to
    total: int = 0

    def fail(self, event: yaml.Event, message: str, fix: str) -> YamlLimit:
        return YamlLimit(FlowError(self.path, event.start_mark.line + 1, message, fix))

    def add(self, event: yaml.Event, size: int) -> None:
        self.total += size
        if self.stack:
            self.stack[-1].size += size
        if self.total > MAX_VALUES:
            raise self.fail(event, f"the file expands to more than {MAX_VALUES:,} values "
                            "(aliases copy what they point to, so nested aliases multiply)",
                            "write the values out, or use fewer aliases of aliases")

    def tag(self, event: yaml.Event) -> None:
        tag = event.tag
        allowed = SCALAR_TAGS if isinstance(event, yaml.ScalarEvent) else COLLECTION_TAGS
        if tag is not None and tag not in allowed:
            shown = tag.replace(_STD, "!!")
            raise self.fail(event, f"the tag '{shown}' is not allowed: a flow is plain data "
                            "and never names Python objects or custom types",
                            f"remove '{shown}' and write the value itself")

    def event(self, event: yaml.Event) -> None:
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            self.tag(event)
        if isinstance(event, yaml.ScalarEvent):
            self.add(event, 1)
            if event.anchor:
                self.sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(self.stack) >= MAX_DEPTH:
                raise self.fail(event, f"the file nests deeper than {MAX_DEPTH} levels",
                                "a flow nests a handful of levels: close the brackets or "
                                "fix the indentation")
            self.total += 1
            self.stack.append(_Frame(event.anchor))
        elif isinstance(event, yaml.CollectionEndEvent):
            frame = self.stack.pop()
            if self.stack:
                self.stack[-1].size += frame.size
            if frame.anchor:
                self.sizes[frame.anchor] = frame.size
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event)

    def alias(self, event: yaml.AliasEvent) -> None:
        name = event.anchor
        if any(frame.anchor == name for frame in self.stack):
            raise self.fail(event, f"the alias *{name} is inside the value it points to, so "
                            "it would repeat forever", f"point *{name} at another value, or "
                            "write the value out")
        if name not in self.sizes:
            raise self.fail(event, f"the alias *{name} names no anchor defined before it",
                            f"define `&{name}` on a value above this line, or remove *{name}")
        self.add(event, self.sizes[name])


def scan_events(text: str, path: str, loader: type) -> None:
    """Walk the event stream of `text`; raise `YamlLimit` at the first bound it breaks.
    Plain syntax errors are left to the caller (they raise `yaml.YAMLError`)."""
    scan = _Scan(path)
    for event in yaml.parse(text, Loader=loader):
        scan.event(event)


_BINARY = ("the file holds a control character or binary data: save it as plain UTF-8 "
           "text")
_INDENT = "this line is indented differently from the lines around it: line it up with its " \
    "siblings"
_HINTS = (
    ("mapping values are not allowed", "a value on this line contains ': ' or is indented "
     "under a value: quote the text, or line the key up with the keys above it"),
    ("expected <block end>", _INDENT),
    ("did not find expected key", _INDENT),
    ("could not find expected ':'", "a key is missing its ':' or a quote is not closed"),
    ("another document", "the file has more than one document (`---`): keep one"),
    ("nesting depth", "a flow nests a handful of levels: close the brackets or fix the "
     "indentation"),
    ("unknown escape character", "inside double quotes write \\\\ for a backslash, or use "
     "single quotes"),
    ("undefined alias", "define the anchor (`&name`) before the alias (`*name`)"),
)
_TAB = "YAML indents with spaces, never tabs: replace the tab on this line with spaces"


def yaml_problem(exc: yaml.YAMLError, text: str, path: str) -> FlowError:
    """One `file:line: not valid YAML` error with a fix, for any PyYAML or libyaml error."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[:exc.position].count("\n") + 1
        return FlowError(path, line, f"not valid YAML: unacceptable character "
                         f"#x{exc.character:04x}", _BINARY)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else 1
    problem = str(getattr(exc, "problem", None) or exc).strip()
    context = str(getattr(exc, "context", None) or "")
    if problem.startswith("but ") and context:
        problem = f"{context} {problem}"
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    fix = _TAB if "\t" in source[:len(source) - len(source.lstrip())] or "\\t" in problem \
        else next((hint for needle, hint in _HINTS if needle in problem),
                  "check the indentation and the quoting on this line")
    return FlowError(path, line, f"not valid YAML: {problem}", fix)
