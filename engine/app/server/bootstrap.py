"""Build a server's `Services` from a flow file and the environment: providers per slot,
knowledge base, tools and storage, Twilio signatures and REST. Models load and warm here,
once per process, before the first call.
"""

from __future__ import annotations

import asyncio
import logging
import os
from functools import partial
from pathlib import Path
from typing import Any

from adapters.twilio.rest import ACCOUNT_SID_ENV, AUTH_TOKEN_ENV, TwilioRest
from adapters.twilio.signature import SignatureChecker, SignatureSettings
from engine.app.server.flow_source import FlowSource
from engine.app.server.limits import ServerLimits
from engine.app.server.services import Services
from engine.app.server.staged_reload import Startup, choose_providers, prepare_reload
from engine.environment import DIALFLOW_DIAL_FROM, DIALFLOW_TRANSCRIPTS, DIALFLOW_TTS_CACHE
from engine.fallback_brain import FallbackBrain
from engine.providers import Choice, build, choose
from engine.records.privacy import DataDirs
from engine.records.recorder import CallRecords
from engine.redaction import redact_private
from engine.transcripts import TranscriptStore
from knowledge.config import KnowledgeConfig
from knowledge.retrieval import Retriever
from knowledge.store import server_from_env
from knowledge.vocabulary import load_vocabulary
from tools.builtin import build_registry
from tools.registry import ToolRegistry
from tools.storage import Storage

log = logging.getLogger("dialflow.server")


def build_brain(choice: Choice, settings: Any, retriever: Retriever, registry: ToolRegistry,
                env: dict[str, str]) -> Any:
    return build(choice, settings, env, retriever=retriever, registry=registry)


def fallbacks(slot: str, given: tuple[str, ...] | None, first: Choice,
              env: dict[str, str]) -> list[Choice]:
    """`settings.<slot>.fallback` (the typed section's `fallback`; None when the flow does not
    say): the providers to try after `first`, in order. A cloud TTS falls back to the local
    voice unless the flow says otherwise."""
    default = ["local"] if slot == "tts" and first.name != "local" else []
    names = default if given is None else list(given)
    return [choose(slot, name, env) for name in names if name != first.name]


def build_tts(choice: Choice, flow: Any, env: dict[str, str]) -> Any:
    """The chosen TTS with the flow's static prompts cached on disk, then its fallbacks
    (tried for any sentence the previous one fails to start)."""
    from adapters.speech.fallback import FallbackTts
    from adapters.speech.prompt_cache import CachedPrompts
    from flows.templates import static_texts

    cache_dir = Path(env.get(DIALFLOW_TTS_CACHE, "data/tts-cache"))
    prompts = static_texts(flow.prompts, flow.settings.business)
    first = CachedPrompts(build(choice, flow.settings, env), cache_dir, prompts)
    after = fallbacks("tts", flow.settings.tts.fallback, choice, env)
    rest = [build(c, flow.settings, env) for c in after]
    return FallbackTts([first, *rest]) if rest else first


def build_services(flow_path: str | Path, env: dict[str, str] | None = None,
                   **overrides: Any) -> Services:
    """Everything calls share. `overrides` replaces a part (stt, tts, brain, storage…)."""
    env = dict(os.environ if env is None else env)
    flows = FlowSource(flow_path)
    flow = flows.current().flow
    settings = flow.settings
    chosen = choose_providers(settings, env)
    for slot, choice in chosen.items():
        log.info("provider for %s: %s", slot, choice.name)
    knowledge = server_from_env(  # DIALFLOW_CHROMA_HOST: the deployment's Chroma server
        KnowledgeConfig.from_dict(settings.knowledge, base_dir=Path(flow_path).parent), env)
    retriever = overrides.pop("retriever", None) or Retriever(knowledge)
    stt = overrides.pop("stt", None) or build(chosen["stt"], settings, env)
    if hasattr(stt, "prime"):  # the business's own words, heard as such (issue 15)
        stt.prime(load_vocabulary(knowledge.source, settings.business))
    tts = overrides.pop("tts", None) or build_tts(chosen["tts"], flow, env)
    given_registry, given_brain = overrides.pop("registry", None), overrides.pop("brain", None)
    registry = given_registry or build_registry(flow.http_tools)

    def brain_for(flow: Any, registry: ToolRegistry, warm: bool = False) -> Any:
        """The brain (with its fallbacks) for `flow`; a live reload builds it warm."""
        order = [chosen["llm"], *fallbacks("llm", flow.settings.llm.fallback, chosen["llm"], env)]
        brains = [build_brain(c, flow.settings, retriever, registry, env) for c in order]
        for one in brains if warm else ():
            if callable(getattr(one, "warm_up", None)):
                one.warm_up()
        return FallbackBrain(brains) if len(brains) > 1 else brains[0]

    brain = given_brain or brain_for(flow, registry)
    twilio = None
    if env.get(ACCOUNT_SID_ENV) and env.get(AUTH_TOKEN_ENV):
        twilio = TwilioRest.from_env(env)
    services = Services(
        flows=flows, stt=stt, tts=tts, brain=brain,
        registry=registry,
        storage=overrides.pop("storage", None) or Storage(),
        signatures=overrides.pop("signatures", None)
        or SignatureChecker(SignatureSettings.from_env(env)),
        twilio=twilio, retriever=retriever, dial_from=env.get(DIALFLOW_DIAL_FROM, "").strip(),
        transcripts=TranscriptStore(env.get(DIALFLOW_TRANSCRIPTS, "data/transcripts")),
        limits=overrides.pop("limits", None) or ServerLimits.from_env(env),
        records=overrides.pop("records", None)
        or CallRecords(DataDirs.from_env(env), redact=redact_private, env=env),
        **overrides)
    flows.prepare = partial(prepare_reload, services, Startup(
        env, chosen, None if given_registry else lambda f: build_registry(f.http_tools),
        None if given_brain else partial(brain_for, warm=True)))
    if hasattr(stt, "on_first_result"):  # cloud STT reports its time to first result
        stt.on_first_result = lambda call_id, seconds: services.metrics.ttfb("stt", seconds)
    return services


async def warm(services: Services) -> None:
    """Load models and the knowledge base before the first call."""
    if services.retriever is not None:
        await asyncio.to_thread(services.retriever.warm_up)
    await services.stt.warm()
    await services.tts.warm()
    warm_brain = getattr(services.brain, "warm", None)
    if warm_brain is not None:
        await warm_brain()
    services.knowledge_ready = True
