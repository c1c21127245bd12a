"""Deepgram speech-to-text: Twilio's 8 kHz mu-law streamed to Deepgram's live WebSocket.

`stt.DeepgramStt` is the `SttProvider`; `session` runs one call's socket (send, KeepAlive,
reconnect, finalize); `turns` turns Deepgram's results into the call's coarse events;
`ledger` keeps the audio that is waiting or unconfirmed; `config` holds the options, the
key and the query parameters (reconnect delays: `adapters.retry`). Only this package imports
the deepgram SDK.
"""
