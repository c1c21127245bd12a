"""The Twilio protocol layer: Media Streams messages, mu-law audio, signatures, TwiML, the
REST calls for transfer and hang-up, the Media Streams bridge (`bridge/`: the stream, the
speaker, frame pacing and the mark ledger), and a simulated Twilio caller for tests and
benchmarks. All telephony lives here.

This is the only package that imports the `twilio` SDK. Modules are independent pieces the
server wires together; none of them starts a server or reads the network on import.
"""
