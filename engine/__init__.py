"""The call runtime: one state machine per loaded flow, one queue and consumer per call,
timers on the loop clock, and an effect runner that turns effects into adapter calls.

Public API: `FlowMachine(flow)`, `Call(machine, ports)`, `Ports`.
"""
