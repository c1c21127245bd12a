"""The composition root: the only code that names concrete adapters.

`server/` wires the phone server (ASGI app, bootstrap of the chosen providers, workers,
limits, metrics, capacity, flow reload), `cli.py` and `commands/` are the `dialflow`
command, `callsim/` the simulated caller behind `dialflow call`. Everything here may import
the core (`engine/`), the behaviours, tools, knowledge and any adapter; nothing in the core
or in an adapter imports this package.
"""
