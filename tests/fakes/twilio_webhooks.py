"""Calling our webhooks the way Twilio does: form-encoded POSTs signed over the URL and the
sorted form (`X-Twilio-Signature`), e.g. when the human answers a warm transfer."""

from __future__ import annotations

import httpx

from adapters.twilio.signature import sign
from adapters.twilio.warm import WHISPER_PATH


async def signed_post(url: str, form: dict[str, str], token: str) -> httpx.Response:
    """POST `form` to `url` with the signature Twilio would send under `token`."""
    async with httpx.AsyncClient() as client:
        return await client.post(url, data=form,
                                 headers={"X-Twilio-Signature": sign(token, url, form)})


async def answer_whisper(http_base: str, parent: str, token: str) -> httpx.Response:
    """The human answers the warm transfer of call `parent`: Twilio fetches the whisper."""
    url = f"{http_base}{WHISPER_PATH}?parent={parent}"
    return await signed_post(url, {"CallSid": "CA" + "9" * 32, "ParentCallSid": parent}, token)
