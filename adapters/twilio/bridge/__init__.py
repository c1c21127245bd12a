"""The Media Streams bridge: one Twilio WebSocket to one `Call`, all telephony-side state.

`stream.py` (`MediaStream`) turns Twilio's messages into the call's events and starts the
call; `speaker.py` (`TwilioSpeaker`) is the core's `Speaker` port over the socket;
`outbound.py` (`OutboundAudio`) paces the 20 ms frames, marks and clears; `host.py` is the
shape of the server that runs the bridge. The bridge depends on the runtime core only
through its ports and events, and never imports the composition root (`engine/app/`).
"""
