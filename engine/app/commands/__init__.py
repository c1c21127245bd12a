"""The engine's own `dialflow` subcommands: check, test, diagram, demo."""
