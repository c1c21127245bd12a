"""YAML loading that remembers the line of every key and list item.

`load_yaml` returns plain dict/list subclasses (`YMap`, `YList`) carrying 1-based line
numbers, so validation can name the exact line of a problem. Duplicate keys, which PyYAML
silently overwrites, are reported as errors. `load_yaml_file` adds the size limit and the
decoding; the bounds on nesting, aliases and tags are in `flows/yaml_limits.py`. Only safe
loading is used: no tag ever builds a Python object. Reads the file it is given; nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from flows.errors import FlowError
from flows.yaml_limits import YamlLimit, scan_events, yaml_problem


class FlowLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader (libyaml's parser when the wheel has it: ten times faster on a big file)
    with YAML 1.2 booleans: only true/false are booleans, so `on:` and `no` stay words
    (YAML 1.1 would read `on:` as the boolean True)."""


FlowLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FlowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class YMap(dict):
    """A mapping with `line` (its own) and `key_lines` (each key's line)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YList(list):
    """A list with `line` (its own) and `item_lines` (each item's line)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


MAX_FILE_BYTES = 1_000_000  # a flow or script is a few kB; anything this big is a mistake


def load_yaml_file(path: str | Path) -> tuple[Any, list[FlowError]]:
    """Read and parse a YAML file with a size limit; unreadable or non-UTF-8 files become
    one error with its line instead of an exception."""
    name = str(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [FlowError(name, 0, f"cannot read the file: {exc.strerror or exc}",
                                "pass the path of an existing file")]
    if len(data) > MAX_FILE_BYTES:
        return None, [FlowError(name, 1, f"the file is larger than {MAX_FILE_BYTES:,} bytes",
                                "a flow or event script is a few kilobytes: check that this "
                                "is the right file")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return None, [FlowError(name, line, f"the file is not UTF-8 text (byte "
                                f"0x{data[exc.start]:02x})", "save the file as UTF-8")]
    return load_yaml(text, name)


def load_yaml(text: str, path: str) -> tuple[Any, list[FlowError]]:
    """Parse `text`; return the data with line numbers and any duplicate-key errors. Broken
    or hostile YAML (see `flows/yaml_limits.py`) gives one error with its line and a fix."""
    try:
        scan_events(text, path, FlowLoader)
        node = yaml.compose(text, Loader=FlowLoader)
    except YamlLimit as exc:
        return None, [exc.error]
    except yaml.YAMLError as exc:
        return None, [yaml_problem(exc, text, path)]
    if node is None:
        return None, []
    errors: list[FlowError] = []
    return _convert(node, FlowLoader(""), path, errors), errors


def _convert(node: yaml.Node, constructor: FlowLoader, path: str,
             errors: list[FlowError]) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = YMap()
        out.line, out.key_lines = line, {}
        for key_node, value_node in node.value:
            key = _convert(key_node, constructor, path, errors)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)):
                errors.append(FlowError(path, key_line, "a key must be a plain word",
                                        "write the key as text, e.g. `name:`"))
                continue
            key = str(key)
            if key in out:
                errors.append(FlowError(path, key_line, f"'{key}' is given twice "
                                        f"(first on line {out.key_lines[key]})",
                                        "keep one of them: YAML would silently use the last"))
            out[key] = _convert(value_node, constructor, path, errors)
            out.key_lines[key] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = YList()
        seq.line, seq.item_lines = line, []
        for item in node.value:
            seq.append(_convert(item, constructor, path, errors))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq
    try:
        return constructor.construct_object(node, deep=True)
    except Exception:  # `!!int abc`, `2026-02-30`, `!!bool maybe`: a value, not a crash
        errors.append(_bad_value(node, path, line))
        return node.value


_KINDS = {"timestamp": ("date", "a real date, e.g. 2026-12-24"),
          "int": ("whole number", "a whole number, e.g. 2"),
          "float": ("number", "a number, e.g. 0.5"),
          "bool": ("boolean", "true or false")}


def _bad_value(node: yaml.Node, path: str, line: int) -> FlowError:
    kind = node.tag.rsplit(":", 1)[-1]
    if kind == "merge":
        return FlowError(path, line, "merge keys (`<<: *anchor`) are not supported",
                         "write the keys out in this mapping")
    name, example = _KINDS.get(kind, (kind, f"a valid {kind}"))
    return FlowError(path, line, f"{node.value!r} is not a valid {name}",
                     f"write {example}, or quote the value to keep it as text")
