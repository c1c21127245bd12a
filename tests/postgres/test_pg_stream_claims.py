"""One stream per CallSid across machines: the claims in a real PostgreSQL server, seen by
every Storage (worker or machine) that shares it, and won once when processes race."""

from __future__ import annotations

from tests.server.stream_claims_kit import (
    check_claims_between_two_stores,
    racing_processes_claim_each_call_once,
)


def test_claims_are_shared_through_postgresql(pg_url: str) -> None:
    check_claims_between_two_stores(pg_url)


def test_racing_processes_win_each_call_sid_once(pg_url: str) -> None:
    assert sum(racing_processes_claim_each_call_once(pg_url)) == 20
