"""Calling our webhooks the way Twilio does: form-encoded POSTs signed over the URL and the
sorted form (`X-Twilio-Signature`), e.g. when the human answers a warm transfer."""

from __future__ import annotations

import httpx

from adapters.twilio.signature import sign
from adapters.twilio.warm import JOIN_PATH, WHISPER_PATH

OUR_NUMBER = "+15550100100"  # what a simulated caller dialled: `{"called": OUR_NUMBER}`


async def signed_post(url: str, form: dict[str, str], token: str) -> httpx.Response:
    """POST `form` to `url` with the signature Twilio would send under `token`."""
    async with httpx.AsyncClient() as client:
        return await client.post(url, data=form,
                                 headers={"X-Twilio-Signature": sign(token, url, form)})


async def answer_whisper(http_base: str, parent: str, token: str) -> httpx.Response:
    """The human answers the warm transfer of call `parent`: Twilio fetches the whisper,
    plays it, then follows its `<Redirect>` to the join webhook (whose answer is returned:
    the conference)."""
    form = {"CallSid": "CA" + "9" * 32, "CallStatus": "in-progress"}
    await signed_post(f"{http_base}{WHISPER_PATH}?parent={parent}", form, token)
    return await signed_post(f"{http_base}{JOIN_PATH}?parent={parent}", form, token)
