"""The `kb` subcommands of the dialflow CLI: `kb ingest [FILE]` and `kb search "question"`.

`register(subparsers)` adds them to the main parser; each handler is `set_defaults(func=...)`
and returns an exit code (0 ok, 1 knowledge error, 2 invalid documents or settings).
Settings come from flows.yaml's `settings.knowledge` when `--flows` is given, then from the
command-line options, which win. Reads the knowledge JSON and flows.yaml it is pointed at,
writes the chroma store, prints to stdout/stderr.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from knowledge.config import EMBEDDING_MODES, KnowledgeConfig
from knowledge.errors import DocumentError, KnowledgeConfigError, KnowledgeError


def register(subparsers: Any) -> None:
    """Add `kb ingest` and `kb search` to an `argparse` subparsers object."""
    kb = subparsers.add_parser("kb", help="manage and query the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="{ingest,search}")
    kb_sub.required = True

    ingest = kb_sub.add_parser("ingest", help="load a knowledge JSON file into the store")
    ingest.add_argument("file", nargs="?", help="knowledge JSON (default: settings source)")
    ingest.add_argument(
        "--rebuild", action="store_true", help="drop the collection first and embed everything"
    )
    _add_store_options(ingest)
    ingest.set_defaults(func=_ingest)

    search = kb_sub.add_parser("search", help="show the nearest knowledge entries")
    search.add_argument("question")
    search.add_argument("-k", "--top-k", type=int, default=None, help="how many (default 3)")
    _add_store_options(search)
    search.set_defaults(func=_search)


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flows", help="flows.yaml whose settings.knowledge to use")
    parser.add_argument("--path", help="embedded chroma directory (default data/chroma)")
    parser.add_argument("--host", help="Chroma server host (instead of --path)")
    parser.add_argument("--port", type=int, help="Chroma server port (default 8000)")
    parser.add_argument("--collection", help="collection name (default dialflow)")
    parser.add_argument("--embeddings", choices=EMBEDDING_MODES, help="embedding model choice")


def config_from_args(args: argparse.Namespace) -> KnowledgeConfig:
    """Settings from `--flows` (if any), overridden by the explicit options."""
    settings: dict[str, Any] = {}
    if getattr(args, "flows", None):
        settings = _flows_knowledge_settings(Path(args.flows))
    config = KnowledgeConfig.from_dict(settings)
    overrides = {
        key: getattr(args, key)
        for key in ("path", "host", "port", "collection", "embeddings")
        if getattr(args, key, None) is not None
    }
    return KnowledgeConfig.from_dict({**asdict(config), **overrides})


def _flows_knowledge_settings(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeConfigError([f"{path}: cannot read flows file: {exc}"]) from exc
    section = (data.get("settings") or {}).get("knowledge") if isinstance(data, dict) else None
    return dict(section or {})


def _open_store(config: KnowledgeConfig) -> Any:
    from knowledge.embeddings import make_embedder
    from knowledge.store import KnowledgeStore

    return KnowledgeStore(config, make_embedder(config))


def _ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from knowledge.ingest import ingest_file

    try:
        config = config_from_args(args)
        source = args.file or config.source
        store = _open_store(config)
        if args.rebuild:
            store.drop()
        with tqdm(total=0, unit="row", desc="embedding", file=sys.stderr, leave=False) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            report = ingest_file(source, store, progress=progress)
    except DocumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KnowledgeConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Ingested {source} into {config.describe_location()}: {report.summary()}")
    print(f"Embedding model: {store.embedder.name}; collection holds {store.count()} rows")
    return 0


def _search(args: argparse.Namespace) -> int:
    from knowledge.retrieval import Retriever

    try:
        config = config_from_args(args)
        if args.top_k is not None:
            config = replace(config, top_k=max(1, args.top_k))
        retriever = Retriever(config, store=_open_store(config))
        if retriever.store.count() == 0:
            print(
                f"The knowledge base {config.describe_location()} is empty; "
                "run `dialflow kb ingest` first.",
                file=sys.stderr,
            )
            return 1
        hits = retriever.search(args.question, max_distance=math.inf)
    except KnowledgeConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    limit = retriever.max_distance
    print(f"Top {len(hits)} for {args.question!r} (max_distance {limit:.2f}):")
    for rank, hit in enumerate(hits, 1):
        note = "" if hit.distance <= limit else "  [beyond max_distance: not used]"
        print(f"{rank}. distance {hit.distance:.3f}  {hit.doc_id}: {hit.title}{note}")
        print(f"   {_shorten(hit.text, 160)}")
    if not any(hit.distance <= limit for hit in hits):
        print("No entry is close enough: the agent would get no knowledge for this question.")
    return 0


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
