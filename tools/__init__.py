"""Tools the agent can call during a phone call, and the storage behind them.

Modules: `registry` (`@tool`, `ToolRegistry`, schema export), `schema` (JSON schema from type
hints and docstrings), `validation` (argument checks), `runner` (`run_tool`), `result`
(`ToolResult`, `ToolError`), `context` (`ToolContext`), `calendar` (`BusinessCalendar`),
`storage` (SQLAlchemy tables; their Alembic `migrations`; `sqlite_connection`, how a SQLite
connection is set up), `phone` (normalising numbers),
`appointments`, `rescheduling` and `escalation` (built-in tools), `http_tools` (tools
declared in flows.yaml), `builtin` (`build_registry`), `cli` (`appointments list`,
`tickets list`).
Importing this package imports nothing else.
"""
