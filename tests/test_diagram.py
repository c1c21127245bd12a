"""`dialflow diagram`: Mermaid text, Graphviz SVG/PNG, trace highlighting and the CLI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from engine.app.cli import main
from engine.scripts import load_script, run_script
from flows import Flow, load_flow, load_flow_text
from flows.diagram import ANY, REENTER, STAY, build_diagram, highlight_trace
from flows.diagram_dot import INSTALL_HINT, TAKEN, render_dot
from flows.diagram_mermaid import render_mermaid, state_ids, text
from flows.durations import format_duration

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "flows.yaml"
SILENT = ROOT / "tests" / "scripts" / "silent_caller_escalated.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Every statement the renderer may write, as Mermaid's stateDiagram-v2 grammar accepts it:
# ids are word characters, labels and descriptions hold no raw `:` or `;` (they end a label).
# Mermaid swaps entity codes (`#59;`) for placeholders before parsing; `valid` does the same.
ENTITY = re.compile(r"#\w+;")
ID = r"(?:\w+|\[\*\])"
STATEMENT = re.compile("|".join([
    r"stateDiagram-v2",
    r"    %% [^{\n].*",
    r'    state "[^"\n]+" as \w+',
    r"    \w+ : [^:;\n]+",
    rf"    {ID} --> {ID}(?: : [^:;\n]+)?",
    r"    classDef \w+ [^;\n]+",
    r"    class \w+(?:,\w+)* \w+",
]))


def valid(mmd: str) -> list[str]:
    """The lines of `mmd` that are not one of the statements above (expected: none)."""
    lines = [ln for ln in mmd.splitlines() if ln.strip()]
    return [ln for ln in lines if not STATEMENT.fullmatch(ENTITY.sub("&", ln))]


TINY = """\
name: tiny
initial: waiting
states:
  waiting:
    description: 'Wait: <listen> for "words"; then go'
    timeout: {after: 500ms, event: timer.silence}
    on:
      caller.transcript: {do: [restart_timer]}
      caller.utterance: {to: waiting, unless: understood}
      timer.silence: done
  done:
    final: true
"""


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(FLOW)


@pytest.fixture(scope="module")
def mermaid(flow: Flow) -> str:
    return render_mermaid(build_diagram(flow))


def tiny_flow(tmp_path: Path) -> Flow:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    parsed, errors = load_flow_text(TINY, str(path))
    assert parsed is not None and not errors, errors
    return parsed


def mermaid_ids(mmd: str) -> dict[str, str]:
    return dict(re.findall(r'^    state "([^"]+)" as (\w+)$', mmd, re.MULTILINE))


def mermaid_edges(mmd: str) -> dict[tuple[str, str], list[str]]:
    """(source id, dest id) -> the label of every arrow between them."""
    out: dict[tuple[str, str], list[str]] = {}
    for source, dest, label in re.findall(rf"^    ({ID}) --> ({ID})(?: : (.*))?$", mmd,
                                          re.MULTILINE):
        out.setdefault((source, dest), []).append(label)
    return out


def dot_edge_line(dot: str, source: str, dest: str) -> str:
    lines = [ln for ln in dot.splitlines() if ln.startswith(f'  "{source}" -> "{dest}"')]
    assert len(lines) == 1, (source, dest, lines)
    return lines[0]


def dot_node_line(dot: str, name: str) -> str:
    lines = [ln for ln in dot.splitlines() if ln.startswith(f'  "{name}" [')]
    assert len(lines) == 1, (name, lines)
    return lines[0]


# --- Mermaid -------------------------------------------------------------------------------

def test_mermaid_statements_follow_the_grammar(mermaid: str) -> None:
    assert mermaid.startswith("stateDiagram-v2\n")
    assert valid(mermaid) == []
    assert valid("stateDiagram-v2\n    a --> b : x: y\n") == ["    a --> b : x: y"]


def test_mermaid_has_every_state_with_a_safe_id(flow: Flow, mermaid: str) -> None:
    ids = mermaid_ids(mermaid)
    assert set(flow.states) <= set(ids)
    assert all(re.fullmatch(r"[A-Za-z_]\w*", i) and "." not in i for i in ids.values())
    assert len(set(ids.values())) == len(ids)
    edges = mermaid_edges(mermaid)
    assert ("[*]", ids[flow.initial]) in edges
    finals = {name for name, state in flow.states.items() if state.final}
    assert {d for (s, d) in edges if d == "[*]"} == {"[*]"}
    assert {s for (s, d) in edges if d == "[*]"} == {ids[name] for name in finals}


def test_mermaid_has_every_transition_edge(flow: Flow, mermaid: str) -> None:
    ids = mermaid_ids(mermaid)
    edges = mermaid_edges(mermaid)
    for spec in flow.transitions:
        source = ids["any state"] if spec.from_any else ids[spec.source]
        labels = edges.get((source, ids[spec.target]))
        assert labels, spec
        assert any(spec.event in label for label in labels), spec


def test_mermaid_labels_carry_guards_timeouts_and_actions(flow: Flow, mermaid: str) -> None:
    for state in flow.states.values():
        if state.timeout:
            assert f"{state.timeout.event} after {format_duration(state.timeout.after)}" in mermaid
    assert "after 8s" in mermaid and "after 20s" in mermaid and "after 1s" in mermaid
    for spec in flow.transitions:
        for guard in spec.guards:
            assert guard.label() in mermaid
    assert ("    listening --> thinking : caller.utterance [understood] "
            "/ reset reprompts, reset repeats\n") in mermaid
    assert "timer.silence after 8s [below_limit reprompts] / count reprompts, say reprompt" \
        in mermaid


def test_mermaid_groups_any_transitions_on_one_pseudo_state(flow: Flow, mermaid: str) -> None:
    ids = mermaid_ids(mermaid)
    from_any = [t for t in flow.transitions if t.from_any]
    assert len(from_any) > 8  # the loader copies each `any:` handler to every state
    assert mermaid.count("call.hangup") == 1
    assert sum("tts.error" in line for line in mermaid.splitlines()
               if line.startswith("    any_state -->")) == 1
    any_edges = {d for (s, d) in mermaid_edges(mermaid) if s == ids["any state"]}
    assert any_edges == {ids["escalating"], ids["hung_up"], ids["goodbye"], ids["ended"]}
    assert "    any_state : every state but transferred, hung_up, ended\n" in mermaid


def test_mermaid_is_deterministic(flow: Flow, mermaid: str) -> None:
    assert render_mermaid(build_diagram(flow)) == mermaid
    assert render_mermaid(build_diagram(load_flow(FLOW))) == mermaid


def test_mermaid_escapes_what_would_end_a_label() -> None:
    assert text('a: b; "c" <d> #1 50%') == "a#58; b#59; #quot;c#quot; #lt;d#gt; #35;1 50#37;"
    assert text("go direction LR now") == "go directio#110; LR now"  # not a layout statement
    assert text("two\n  lines") == "two lines"


def test_state_ids_avoid_keywords_dots_and_collisions() -> None:
    ids = state_ids(["greeting", "state", "wait.more", "default_x", "s_state", "end-call"])
    assert ids == {"greeting": "greeting", "state": "s_state_2", "wait.more": "s_wait_more",
                   "default_x": "s_default_x", "s_state": "s_state", "end-call": "s_end_call"}


def test_internal_transition_and_reentry_are_drawn_apart(tmp_path: Path) -> None:
    diagram = build_diagram(tiny_flow(tmp_path))
    loops = {e.kind: e for e in diagram.edges if e.source == e.dest == "waiting"}
    assert set(loops) == {STAY, REENTER}
    assert loops[STAY].lines == ("caller.transcript / restart_timer",)
    assert loops[REENTER].lines == ("caller.utterance [not understood]",)

    mmd = render_mermaid(diagram)
    assert mermaid_edges(mmd)[("waiting", "waiting")] == [
        "(stays)<br>caller.transcript / restart_timer",
        "(re-enters)<br>caller.utterance [not understood]",
    ]
    assert "    waiting --> done : timer.silence after 500ms\n" in mmd
    assert "    waiting : Wait#58; #lt;listen#gt; for #quot;words#quot;#59; then go\n" in mmd
    assert valid(mmd) == []

    dot = render_dot(diagram)
    stay, reenter = (ln for ln in dot.splitlines() if ln.startswith('  "waiting" -> "waiting"'))
    assert "style=dashed" in stay and "(stays)" in stay
    assert "style=dashed" not in reenter and "(re-enters)" in reenter


def test_alternatives_to_one_state_share_an_edge(flow: Flow) -> None:
    diagram = build_diagram(flow)
    to_escalating = [e for e in diagram.edges if (e.source, e.dest) == ("listening", "escalating")]
    assert len(to_escalating) == 1
    assert to_escalating[0].lines == ("caller.utterance / say not_understood",
                                      "timer.silence after 8s / say no_response")
    stays = [e for e in diagram.edges if e.source == "listening" and e.kind == STAY]
    assert len(stays) == 1 and len(stays[0].lines) == 7  # incl. DTMF 1: repeat_last
    assert sum(e.source == ANY for e in diagram.edges) == 4


def test_labels_without_actions(flow: Flow) -> None:
    diagram = build_diagram(flow, actions=False)
    lines = [line for e in diagram.edges for line in e.lines]
    assert "listening" in {n.name for n in diagram.nodes}
    assert all(" / " not in line for line in lines)
    assert "caller.utterance [understood]" in lines


# --- trace highlighting --------------------------------------------------------------------

def test_trace_highlights_exactly_the_visited_states(flow: Flow) -> None:
    trace = run_script(load_script(SILENT), flow).trace
    highlight = highlight_trace(flow, trace)
    assert highlight.states == ("greeting", "listening", "escalating", "transferring",
                                "transferred")
    assert highlight.last == "transferred" and highlight.started

    mmd = render_mermaid(build_diagram(flow), highlight)
    visited = re.search(r"^    class ([\w,]+) visited$", mmd, re.MULTILINE)
    assert visited is not None
    assert set(visited.group(1).split(",")) == {"greeting", "listening", "escalating",
                                                   "transferring", "transferred"}
    assert "    class transferred lastState\n" in mmd
    assert "thinking" not in visited.group(1)
    assert valid(mmd) == []


def test_trace_colours_taken_edges_and_states_in_dot(flow: Flow) -> None:
    highlight = highlight_trace(flow, run_script(load_script(SILENT), flow).trace)
    dot = render_dot(build_diagram(flow), highlight)
    for source, dest in [("greeting", "listening"), ("listening", "escalating"),
                         ("escalating", "transferring"), ("transferring", "transferred"),
                         ("listening", "listening")]:
        assert f'color="{TAKEN}"' in dot_edge_line(dot, source, dest), (source, dest)
    for source, dest in [("listening", "thinking"), ("greeting", "barge_in"),
                         ("goodbye", "ended")]:
        assert TAKEN not in dot_edge_line(dot, source, dest), (source, dest)
    assert f'color="{TAKEN}"' in dot_edge_line(dot, "__start", "greeting")
    for name in ("greeting", "listening", "escalating"):
        assert "filled" in dot_node_line(dot, name) and "penwidth=2" in dot_node_line(dot, name)
    assert "filled" not in dot_node_line(dot, "thinking")
    ended = dot_node_line(dot, "transferred")
    assert "penwidth=4" in ended and "the trace ended here" in ended
    # within the merged "stays" loop only the alternatives that ran are bold
    loop = dot_edge_line(dot, "listening", "listening")
    assert f'<font color="{TAKEN}"><b>timer.silence after 8s' in loop
    assert "<b>caller.transcript" not in loop


# --- CLI -----------------------------------------------------------------------------------

@pytest.fixture
def graphviz() -> None:
    """The svg/png tests need Graphviz's `dot`: without it they fail saying what to install
    (never skipped, never a cryptic error)."""
    if shutil.which("dot") is None:
        pytest.fail(f"Graphviz is not installed, and the svg/png diagram tests need its `dot` "
                    f"program: {INSTALL_HINT}", pytrace=False)


def test_cli_prints_mermaid_by_default(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], mermaid: str) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["diagram"]) == 0
    assert capsys.readouterr().out == mermaid


def test_cli_writes_mermaid_file(tmp_path: Path, mermaid: str) -> None:
    out = tmp_path / "flow.mmd"
    assert main(["diagram", str(FLOW), "--format", "mermaid", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == mermaid


def test_cli_svg_via_graphviz(tmp_path: Path, flow: Flow, graphviz: None) -> None:
    out = tmp_path / "flow.svg"
    assert main(["diagram", str(FLOW), "--format", "svg", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "<svg" in svg
    for name in flow.states:
        assert f">{name}</text>" in svg, name
    assert "timer.silence after 8s" in svg


def test_cli_png_via_graphviz(tmp_path: Path, graphviz: None) -> None:
    out = tmp_path / "flow.png"
    assert main(["diagram", str(FLOW), "-f", "png", "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000


def test_cli_format_follows_output_suffix(tmp_path: Path, graphviz: None) -> None:
    out = tmp_path / "flow.png"
    assert main(["diagram", str(FLOW), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_cli_trace_svg_colours_the_path(tmp_path: Path, graphviz: None) -> None:
    out = tmp_path / "trace.svg"
    assert main(["diagram", str(FLOW), "--trace", str(SILENT), "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert f'stroke="{TAKEN}"' in svg and 'fill="#fff3bf"' in svg


def test_cli_trace_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(FLOW), "--trace", str(SILENT)]) == 0
    out = capsys.readouterr().out
    assert "    class greeting,listening,escalating,transferring,transferred visited\n" in out
    assert "%% trace: greeting -> listening -> escalating -> transferring -> transferred" in out


def test_cli_missing_dot_is_an_error_not_a_fallback(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for fmt in ("svg", "png"):
        out = tmp_path / f"flow.{fmt}"
        assert main(["diagram", str(FLOW), "--format", fmt, "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert "apt-get install graphviz" in err and "`dot`" in err
        assert not out.exists()


def test_cli_image_needs_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(FLOW), "--format", "svg"]) == 2
    captured = capsys.readouterr()
    assert "needs -o" in captured.err and captured.out == ""


def test_cli_invalid_flow_prints_errors(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("timer.silence: done", "timer.silence: gone"), encoding="utf-8")
    out = tmp_path / "bad.mmd"
    assert main(["diagram", str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "transition to unknown state 'gone'" in err and "nothing drawn" in err
    assert not out.exists()


def test_cli_unreadable_trace_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(FLOW), "--trace", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot run" in capsys.readouterr().err


def test_docs_flow_mmd_is_current(mermaid: str) -> None:
    assert (ROOT / "docs" / "flow.mmd").read_text(encoding="utf-8") == mermaid, \
        "regenerate it: dialflow diagram flows.yaml -o docs/flow.mmd"


def test_readme_embeds_the_current_diagram() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    diagram = (ROOT / "docs" / "flow.mmd").read_text(encoding="utf-8").strip()
    assert f"```mermaid\n{diagram}\n```" in readme, \
        "paste docs/flow.mmd into the README's mermaid block"
