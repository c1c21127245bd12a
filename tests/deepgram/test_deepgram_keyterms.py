"""Issue 15: in cloud mode Deepgram gets the business vocabulary as key terms (nova-3's
repeated `keyterm`, older models' `keywords` with a boost), bounded in number."""

from __future__ import annotations

import urllib.parse

from adapters.deepgram.config import MAX_KEYTERMS, DeepgramOptions, listen_params
from adapters.deepgram.stt import DeepgramStt


def test_nova3_gets_keyterms_and_older_models_keywords() -> None:
    terms = ("Cigna", "Delta  Dental", "", "MetLife")
    nova3 = listen_params(DeepgramOptions(keyterms=terms))
    assert nova3["keyterm"] == ["Cigna", "Delta Dental", "MetLife"] and "keywords" not in nova3
    nova2 = listen_params(DeepgramOptions(model="nova-2", keyterms=terms))
    assert nova2["keywords"] == ["Cigna:2", "Delta Dental:2", "MetLife:2"]
    assert "keyterm" not in listen_params(DeepgramOptions())
    many = listen_params(DeepgramOptions(keyterms=tuple(f"t{i}" for i in range(500))))
    assert len(many["keyterm"]) == MAX_KEYTERMS
    query = urllib.parse.urlencode([("keyterm", t) for t in nova3["keyterm"]])
    assert query == "keyterm=Cigna&keyterm=Delta+Dental&keyterm=MetLife"


def test_prime_changes_the_next_sessions_query() -> None:
    stt = DeepgramStt(env={"DEEPGRAM_API_KEY": "test-key"}, base_url="ws://127.0.0.1:9")
    stt.prime(["Cigna", "Aetna"])
    assert listen_params(stt.options)["keyterm"] == ["Cigna", "Aetna"]
    assert stt.options.keyterms == ("Cigna", "Aetna")
