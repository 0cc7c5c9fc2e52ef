"""Backoff: full-jitter waits that grow, and a deadline no wait reaches past."""

from __future__ import annotations

import random

import pytest

from modelreg.backoff import Backoff


class Clock:
    """Time that moves only when slept: the waits are checked exactly, without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_waits_are_drawn_below_a_growing_ceiling_up_to_the_cap() -> None:
    clock = Clock()
    backoff = Backoff(1000.0, base=0.05, cap=1.0, clock=clock, sleep=clock.sleep)
    for _ in range(12):
        assert backoff.wait()
    ceilings = [min(1.0, 0.05 * 2**n) for n in range(12)]
    assert all(0 <= w < c for w, c in zip(clock.slept, ceilings, strict=True))
    assert backoff.waits == 12 and backoff.waited == pytest.approx(sum(clock.slept))
    assert backoff.elapsed == pytest.approx(sum(clock.slept))


def test_jitter_spreads_writers_that_collide_together() -> None:
    # ten writers rejected in the same round would retry at ten different moments
    firsts = set()
    for seed in range(10):
        clock = Clock()
        Backoff(60, clock=clock, sleep=clock.sleep, rng=random.Random(seed)).wait()
        firsts.add(round(clock.slept[0], 6))
    assert len(firsts) == 10


def test_no_wait_reaches_past_the_deadline() -> None:
    for seed in range(20):
        clock = Clock()
        backoff = Backoff(
            3.0, base=0.5, cap=2.0, clock=clock, sleep=clock.sleep, rng=random.Random(seed)
        )
        starts = []
        while backoff.wait():
            starts.append(clock.now - 100.0)  # an attempt starts...
            clock.now += 0.2  # ...and takes time too
        assert starts and all(t < 3.0 for t in starts)
        assert backoff.remaining < 2.0  # it stopped because the next wait could not fit


def test_a_zero_timeout_allows_no_retry() -> None:
    clock = Clock()
    backoff = Backoff(0, clock=clock, sleep=clock.sleep)
    assert not backoff.wait() and clock.slept == []


def test_a_negative_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        Backoff(-1)
