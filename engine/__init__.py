"""The call runtime: one state machine per loaded flow, one queue and consumer per call,
timers on the loop clock, and an effect runner that turns effects into port calls.

The main types live in their modules (importing this package imports nothing):
`engine.machine.FlowMachine(flow)`, `engine.call.Call(machine, ports)` and
`engine.ports.Ports`. Shared by the core and the adapters, each once: the audio format
(`audio_format`), sentence splitting (`sentences`), log redaction (`redaction`), the table of
environment variables (`environment`) and the provider chooser (`providers`).
"""
