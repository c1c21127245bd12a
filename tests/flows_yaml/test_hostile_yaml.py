"""Hostile or broken flow files: each gives one `file:line: error` with a fix, through
`dialflow check`, `diagram`, `test --flow`, `demo --flow` and `load_flow`, and never a
traceback or a hang. Work is bounded by limits on size, nesting and alias expansion."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.app.cli import main
from flows import FlowInvalid, check_flow, load_flow
from flows.yaml_limits import MAX_DEPTH, MAX_VALUES
from flows.yaml_lines import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parents[2]
FLOW = (ROOT / "tests" / "scripts_format" / "flows.yaml").read_text(encoding="utf-8")


def laughs(levels: int) -> str:
    """Each level is a list of ten aliases of the level before: 10**levels values."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


# (name, file content, line of the error, words the message must contain, words of the fix)
CASES: list[tuple[str, str | bytes, int, str, str]] = [
    ("bad_indent", "name: x\nstates:\n  a:\n    final: true\n   b: 1\n", 5,
     "not valid YAML", "indented differently"),
    ("tab", "name: x\nstates:\n\ta:\n    final: true\n", 3, "not valid YAML", "tabs"),
    ("recursive_alias", "name: x\nstates: &s\n  a: *s\n", 3,
     "the alias *s is inside the value it points to", "write the value out"),
    ("recursive_list", "name: x\ncounters: &c [1, *c]\n", 2,
     "the alias *c is inside the value it points to", "write the value out"),
    ("billion_laughs", laughs(6), 5, f"expands to more than {MAX_VALUES:,} values",
     "fewer aliases"),
    ("python_object", "name: x\nstates:\n  a: !!python/object:os.system {final: true}\n", 3,
     "the tag '!!python/object:os.system' is not allowed", "remove"),
    ("python_apply", "name: x\nstates: !!python/object/apply:os.system [ls]\n", 2,
     "the tag '!!python/object/apply:os.system' is not allowed", "remove"),
    ("unknown_tag", "name: x\nprompts:\n  hi: !shout hello\n", 3,
     "the tag '!shout' is not allowed", "remove"),
    ("binary_tag", "name: !!binary aGVsbG8=\n", 1, "the tag '!!binary' is not allowed",
     "remove"),
    ("not_utf8", "name: x\nprompts:\n  hi: café\n".encode("latin-1"), 3,
     "not UTF-8 text (byte 0xe9)", "save the file as UTF-8"),
    ("binary_file", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, 1, "not UTF-8 text",
     "UTF-8"),
    ("nul_byte", "name: x\nprompts:\n  hi: a\x00b\n", 3, "unacceptable character #x0000",
     "binary"),
    ("bad_date", "name: x\nsettings:\n  business:\n    holidays: [2026-02-30]\n", 4,
     "'2026-02-30' is not a valid date", "a real date"),
    ("bad_int", "name: x\ncounters:\n  tries: {max: !!int many}\n", 3,
     "'many' is not a valid whole number", "a whole number"),
    ("deep_brackets", "name: x\ndescription: " + "[" * 5000 + "]" * 5000 + "\n", 2,
     "nest", "brackets"),
    ("deep_indent", "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 10)),
     MAX_DEPTH + 1, f"nests deeper than {MAX_DEPTH} levels", "indentation"),
    ("undefined_alias", "name: x\ninitial: *start\n", 2, "the alias *start names no anchor",
     "define `&start`"),
    ("two_documents", "name: x\n---\nname: y\n", 2, "another document", "keep one"),
    ("merge_key", "name: x\nbase: &b {final: true}\nstates:\n  a:\n    <<: *b\n", 5,
     "merge keys", "write the keys out"),
    ("huge_file", "name: x\n# " + "x" * (MAX_FILE_BYTES + 10) + "\n", 1,
     f"larger than {MAX_FILE_BYTES:,} bytes", "right file"),
    ("infinite_duration", FLOW.replace("after: 8s, event: timer.silence",
                                       "after: .inf, event: timer.silence"),
     FLOW.splitlines().index("    timeout: {after: 8s, event: timer.silence}") + 1,
     "not a finite duration", "8s"),
]


# A bad value inside an otherwise readable file may also break the flow's schema; these
# cases break the YAML itself, so nothing else can be said about the file.
VALUE_CASES = ("bad_date", "bad_int", "infinite_duration", "merge_key")
PURE_YAML = [c for c in CASES if c[0] not in VALUE_CASES]


def write_case(tmp_path: Path, case: tuple[str, str | bytes, int, str, str]
               ) -> tuple[Path, int, str, str]:
    name, content, line, words, fix = case
    path = tmp_path / f"{name}.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path, line, words, fix


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, int, str, str]:
    return write_case(tmp_path, request.param)


def test_check_gives_one_clear_error(hostile: tuple[Path, int, str, str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path, line, words, fix = hostile
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    first, fix_line = err.splitlines()[:2]
    assert first.startswith(f"{path}:{line}: error: "), err
    assert words in first, err
    assert fix_line.startswith("    fix: ") and fix in fix_line, err


def test_every_loader_refuses_the_same_way(hostile: tuple[Path, int, str, str],
                                           tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path, line, words, _ = hostile
    with pytest.raises(FlowInvalid) as info:
        load_flow(path)
    assert str(info.value.errors[0]).startswith(f"{path}:{line}: error: ")
    assert words in info.value.errors[0].message

    assert main(["diagram", str(path), "-o", str(tmp_path / "out.mmd")]) == 1
    script = tmp_path / "one.yaml"
    script.write_text("steps:\n  - event: call.started\n")
    assert main(["test", "--flow", str(path), str(script)]) == 1
    assert main(["demo", "--flow", str(path)]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert f"{path}:{line}: error: " in out.err and f"{path}:{line}: error: " in out.out


@pytest.mark.parametrize("case", PURE_YAML, ids=[c[0] for c in PURE_YAML])
def test_broken_yaml_gives_exactly_one_error(
        case: tuple[str, str | bytes, int, str, str], tmp_path: Path) -> None:
    path, line, words, _ = write_case(tmp_path, case)
    _, problems = check_flow(path)
    assert [(p.line, words in p.message) for p in problems] == [(line, True)]


def test_a_bad_value_hides_what_it_causes_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(FLOW.replace("reprompts: {max: 2}", "reprompts: {max: !!int two}"))
    _, problems = check_flow(path)
    line = FLOW.splitlines().index("  reprompts: {max: 2}           # silent turns reprompted "
                                   "before the call is escalated") + 1
    assert [p.message for p in problems if p.line == line] == ["'two' is not a valid whole "
                                                               "number"]


def test_limits_leave_a_normal_flow_alone(tmp_path: Path) -> None:
    path = tmp_path / "flows.yaml"
    path.write_text("# a BOM and aliases used sensibly are fine\n" + FLOW.replace(
        "  reprompts: {max: 2}", "  reprompts: &two {max: 2}").replace(
        "  repeats: {max: 2}", "  repeats: *two"), encoding="utf-8-sig")
    flow = load_flow(path)
    assert flow.counters == {"reprompts": 2, "repeats": 2}


def test_a_script_file_gets_the_same_protection(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "bomb.yaml"
    script.write_text(laughs(7) + "steps: []\n")
    assert main(["test", "--flow", str(ROOT / "flows.yaml"), str(script)]) == 1
    out = capsys.readouterr().out
    assert f"{script}:5: error: the file expands to more than" in out


def test_an_error_past_the_last_line_still_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "open.yaml"
    path.write_text("initial: a\nstates:\n  a: {final: true\n")
    _, problems = check_flow(path)
    assert len(problems) == 1 and problems[0].message.startswith("not valid YAML")
    assert problems[0].fix
