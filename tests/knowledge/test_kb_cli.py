"""`dialflow kb ingest` and `kb search`, through a parser built the way the main CLI does."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from knowledge.cli import register
from knowledge.documents import load_documents
from knowledge.ingest import document_chunks

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "knowledge.json"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="dialflow")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.fixture(autouse=True)
def _model_loaded(local_embedder) -> None:
    """The CLI builds its own embedder; the shared model is already loaded."""


def test_ingest_then_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chroma = str(tmp_path / "chroma")
    assert run("kb", "ingest", str(SHIPPED), "--path", chroma, "--embeddings", "local") == 0
    out = capsys.readouterr().out
    entries = len(json.loads(SHIPPED.read_text()))
    rows = sum(len(document_chunks(doc)) for doc in load_documents(SHIPPED))
    assert f"{entries} documents" in out and "0 removed" in out
    assert "local:all-MiniLM-L6-v2-onnx-int8" in out
    assert f"collection holds {rows} rows" in out

    assert run("kb", "ingest", str(SHIPPED), "--path", chroma) == 0
    assert f"0 added, 0 updated, {rows} unchanged" in capsys.readouterr().out

    assert run("kb", "search", "Where can I park my car?", "-k", "2", "--path", chroma) == 0
    out = capsys.readouterr().out
    ranked = re.findall(r"^(\d)\. distance (\d\.\d{3})  (\S+):", out, re.MULTILINE)
    assert [r[0] for r in ranked] == ["1", "2"]
    assert ranked[0][2] == "parking"
    assert float(ranked[0][1]) <= float(ranked[1][1])
    assert "Free" in out or "free" in out


def test_search_marks_unrelated_results(tmp_path: Path, capsys) -> None:
    chroma = str(tmp_path / "chroma")
    run("kb", "ingest", str(SHIPPED), "--path", chroma)
    capsys.readouterr()
    assert run("kb", "search", "What's the capital of France?", "--path", chroma) == 0
    out = capsys.readouterr().out
    assert out.count("[beyond max_distance: not used]") == 3
    assert "No entry is close enough" in out


def test_search_on_empty_store_says_to_ingest(tmp_path: Path, capsys) -> None:
    assert run("kb", "search", "hours?", "--path", str(tmp_path / "chroma")) == 1
    assert "kb ingest" in capsys.readouterr().err


def test_ingest_bad_file_names_the_entry(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "hours", "title": "Hours", "text": ""}]))
    assert run("kb", "ingest", str(bad), "--path", str(tmp_path / "chroma")) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "entry 0 (id 'hours')" in err and "'text'" in err


def test_settings_come_from_flows_yaml(tmp_path: Path, capsys) -> None:
    kb = tmp_path / "kb.json"
    kb.write_text(json.dumps([{"id": "pets", "title": "Pets", "text": "Dogs are welcome."}]))
    flows = tmp_path / "flows.yaml"
    flows.write_text(
        "settings:\n  knowledge:\n"
        f"    path: {tmp_path / 'store'}\n    collection: clinic-kb\n    source: {kb}\n"
        "    embeddings: local\n"
    )
    assert run("kb", "ingest", "--flows", str(flows)) == 0
    out = capsys.readouterr().out
    assert "'clinic-kb'" in out and "1 documents" in out
    assert (tmp_path / "store").is_dir()
    assert run("kb", "search", "can I bring my dog", "--flows", str(flows)) == 0
    assert "pets: Pets" in capsys.readouterr().out

    flows.write_text("settings:\n  knowledge:\n    top_k: many\n")
    assert run("kb", "search", "x", "--flows", str(flows)) == 2
    assert "settings.knowledge.top_k" in capsys.readouterr().err


def test_rebuild_drops_the_collection_first(tmp_path: Path, capsys) -> None:
    chroma = str(tmp_path / "chroma")
    run("kb", "ingest", str(SHIPPED), "--path", chroma)
    capsys.readouterr()
    assert run("kb", "ingest", str(SHIPPED), "--path", chroma, "--rebuild") == 0
    rows = sum(len(document_chunks(doc)) for doc in load_documents(SHIPPED))
    assert f"{rows} added" in capsys.readouterr().out
