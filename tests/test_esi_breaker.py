"""The circuit breaker's state machine on a fake clock, shared through the store: closed ->
open after N failures in a row -> half-open after the reset time -> one probe -> closed or
open again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from esi.breaker import CircuitBreaker
from esi.errors import EsiCircuitOpen
from store.base import Store
from tests.esi_env import T0, FakeClock


def breaker(store: Store, clock: FakeClock, failures: int = 3, reset: float = 60) -> CircuitBreaker:
    return CircuitBreaker(store, failures=failures, reset=reset, probe_ttl=30, now=clock)


def fail(b: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        b.failure(b.allow())


def test_starts_closed(store, clock):
    assert breaker(store, clock).state() == {
        "state": "closed",
        "failures": 0,
        "opened_at": None,
        "retry_at": None,
    }


def test_opens_after_n_failures_in_a_row_and_fails_fast(store, clock):
    b = breaker(store, clock)
    fail(b, 2)
    assert b.state()["state"] == "closed"
    assert b.state()["failures"] == 2
    fail(b)
    state = b.state()
    assert state["state"] == "open"
    assert state["opened_at"] == T0
    assert state["retry_at"] == T0 + timedelta(seconds=60)
    clock.advance(59)
    with pytest.raises(EsiCircuitOpen) as caught:
        b.allow()
    assert caught.value.retry_at == T0 + timedelta(seconds=60)
    assert "circuit breaker open" in str(caught.value)


def test_an_answer_resets_the_count(store, clock):
    b = breaker(store, clock)
    fail(b, 2)
    b.success(b.allow())
    fail(b, 2)
    assert b.state() == {"state": "closed", "failures": 2, "opened_at": None, "retry_at": None}


def test_half_open_lets_exactly_one_probe_through(store, clock):
    b, other = breaker(store, clock), breaker(store, clock)
    fail(b, 3)
    clock.advance(60)
    assert b.state()["state"] == "half_open"
    permit = b.allow()
    assert permit.probe is not None
    # Every other caller, here or in another process, still fails fast meanwhile.
    with pytest.raises(EsiCircuitOpen) as caught:
        other.allow()
    assert caught.value.retry_at > clock()
    with pytest.raises(EsiCircuitOpen):
        b.allow()
    b.success(permit)
    assert b.state()["state"] == "closed"
    assert other.allow().probe is None


def test_a_failed_probe_reopens_for_another_reset_period(store, clock):
    b = breaker(store, clock)
    fail(b, 3)
    clock.advance(61)
    permit = b.allow()
    b.failure(permit)
    state = b.state()
    assert state["state"] == "open"
    assert state["retry_at"] == clock() + timedelta(seconds=60)
    # The probe lock was released: after the next reset period someone may probe again.
    clock.advance(60)
    assert b.allow().probe is not None


def test_a_probe_that_ends_without_a_verdict_leaves_it_half_open(store, clock):
    b = breaker(store, clock)
    fail(b, 3)
    clock.advance(60)
    b.release(b.allow())
    assert b.state()["state"] == "half_open"
    permit = b.allow()
    assert permit.probe is not None
    b.success(permit)


def test_state_is_shared_between_instances(store, clock):
    first, second = breaker(store, clock), breaker(store, clock)
    fail(first, 2)
    fail(second, 1)
    assert first.state()["state"] == "open"
    with pytest.raises(EsiCircuitOpen):
        second.allow()
    first.reset_state()
    assert second.state()["state"] == "closed"
