"""Prompts the same on every call (plain, or naming only settings.business) are cached as
audio, exactly as `say` speaks them; prompts naming variables are synthesised per call."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.speech.prompt_cache import CachedPrompts
from engine.scripts.format import load_script
from engine.scripts.runner import run_script
from flows import load_flow
from flows.templates import static_texts
from tests.fakes.providers import ToneTts

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "scripts"


async def _speak(cache: CachedPrompts, text: str) -> bytes:
    return b"".join([chunk async for chunk in cache.synthesize(text, call_id="CA1")])


def test_business_prompts_hit_the_cache_and_variable_ones_do_not(tmp_path: Path) -> None:
    flow = load_flow(ROOT / "flows.yaml")
    texts = static_texts(flow.prompts, flow.settings.raw.get("business"))
    assert len(texts) == len(flow.prompts) - 1  # only ask_message names a variable
    assert not any("{" in t for t in texts)
    said = [r.detail for r in run_script(load_script(SCRIPTS / "after_hours_message.yaml"))
            .world.records if r.kind == "said"]
    after_hours, _, ask_message = said[0], said[1], said[2]

    inner = ToneTts()
    cache = CachedPrompts(inner, tmp_path, texts)
    asyncio.run(cache.warm())
    warmed = len(inner.spoken)
    assert warmed == len(texts)
    assert asyncio.run(cache.cached(after_hours)) is not None  # as the call speaks it
    asyncio.run(_speak(cache, after_hours))
    assert len(inner.spoken) == warmed  # served from the cache
    assert asyncio.run(cache.cached(ask_message)) is None
    asyncio.run(_speak(cache, ask_message))
    asyncio.run(_speak(cache, ask_message))
    assert inner.spoken[warmed:] == [ask_message, ask_message]  # per call, never cached
