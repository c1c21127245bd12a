"""Fixtures: one real PostgreSQL server per session (see pg_server.py), a fresh database per
test. When PostgreSQL is not installed the tests FAIL and say what to install."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator

import pytest

from tests.postgres.pg_server import PgServer, start_server

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        server = start_server()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A URL of an empty database of its own on the session's server."""
    return pg_server.create_database(f"test_{next(_names)}")
