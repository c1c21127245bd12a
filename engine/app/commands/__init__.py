"""The `dialflow` subcommands, one module each (listed in `engine.app.cli.COMMAND_MODULES`):
check, test, diagram, demo, serve, call, replay, calls, purge; `test_from_call` and
`quiet_logs` are helpers they share. Part of the composition root (`engine/app/`), so a
command may name concrete adapters."""
