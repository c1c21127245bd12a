"""Calls on the record: each call's event log (what the machine handled and everything the
outside world answered), exact replay on virtual time, "what if" replays against an edited
flow, event scripts made from recorded calls, encrypted recordings and retention.

Layout: `names` (safe file names, the flow archive), `log` (the versioned line format, the
writer and the reader), `recorder` (the ports and trace of a live call, recorded), `replay`
(the recorded answers as fakes), `compare` (first divergence, side by side), `from_call`
(log -> event script), `privacy` (settings, redaction), `audio` (encrypted stereo WAV),
`retention` (purge), `summary` (what `dialflow calls` prints). Imports flows/ and engine/
only; the server hands in anything adapter-specific (the redactor).
"""
