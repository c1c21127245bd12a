"""The engine's own `dialflow` subcommands, one module each, listed in `engine/app/cli.py`:
check, test (and `test --from-call`), diagram, demo, serve, call, replay, calls, purge.
Part of the composition root (`engine/app/`), so a command may name concrete adapters."""
