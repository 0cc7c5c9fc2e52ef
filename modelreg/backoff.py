"""Waiting between attempts: exponential backoff with full jitter, bounded by time.

Writers that collide at one remote all retry; if they waited the same time they
would collide again. Each wait is drawn uniformly from ``[0, min(cap, base * 2**n))``
("full jitter"), so after a few rounds the writers spread out and one lands per
round. The bound is a deadline, not a count: how many rounds a writer needs
depends on how many others are writing, which it cannot know.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

BASE_S = 0.05
CAP_S = 8.0


@dataclass
class Backoff:
    """A budget of ``timeout`` seconds for attempts, counted from creation.

    ``clock`` and ``sleep`` default to the monotonic clock and :func:`time.sleep`;
    ``rng`` to a generator seeded by the operating system (two processes never draw
    the same waits).
    """

    timeout: float
    base: float = BASE_S
    cap: float = CAP_S
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    waits: int = field(default=0, init=False)
    waited: float = field(default=0.0, init=False)
    _start: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.timeout < 0:
            raise ValueError("timeout must be 0 or more seconds")
        self._start = self.clock()

    @property
    def elapsed(self) -> float:
        return self.clock() - self._start

    @property
    def remaining(self) -> float:
        return max(0.0, self.timeout - self.elapsed)

    def next_delay(self) -> float:
        """The next wait, drawn with full jitter (not yet clipped to the deadline)."""
        return self.rng.uniform(0.0, min(self.cap, self.base * 2.0**self.waits))

    def wait(self) -> bool:
        """Sleep before the next attempt and return True; return False, without sleeping,
        when the wait would end at or after the deadline (no attempt starts after it)."""
        delay = self.next_delay()
        if delay >= self.remaining:
            return False
        self.sleep(delay)
        self.waits += 1
        self.waited += delay
        return True
