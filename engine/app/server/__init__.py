"""The phone server: Twilio's voice webhook and Media Streams WebSocket, health and metrics.

`create_app(services)` builds the FastAPI app; `Services` holds what calls share (flow,
providers, brain, tools, telephony, metrics). One `MediaStream` per WebSocket
(`adapters/twilio/bridge/`) bridges Twilio's protocol to one `Call`. Part of the
composition root (`engine/app/`).
"""
