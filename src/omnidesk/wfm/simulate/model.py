"""A simulation scenario as plain frozen records: queues, traffic, agents, shifts.

Queues and agents carry the routing engine's own ``QueueConfig`` / ``AgentConfig``,
so the simulator routes with exactly the settings the server would use.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from omnidesk.routing import AgentConfig, EngineConfig, QueueConfig, QueueMembership
from omnidesk.wfm.erlang import WfmError
from omnidesk.wfm.simulate.distributions import NEVER, ZERO, Distribution

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)
"""A Monday, midnight UTC: where simulated time starts unless the scenario says otherwise."""


class ArrivalProcess(Protocol):
    """Anything that yields arrival times (seconds from the start, increasing)."""

    def times(self, rng: random.Random, until_s: float) -> Iterator[float]:
        """Arrival times before ``until_s``."""
        ...

    def expected(self, until_s: float) -> float:
        """Expected number of arrivals before ``until_s``."""
        ...


@dataclass(frozen=True, slots=True)
class PoissonArrivals:
    """Poisson arrivals, mean ``per_interval[k]`` contacts in interval k (the last one repeats)."""

    per_interval: tuple[float, ...]
    interval_s: float

    def __post_init__(self) -> None:
        if not self.per_interval or any(not 0 <= v < math.inf for v in self.per_interval):
            raise WfmError("per_interval must be a non-empty list of numbers ≥ 0")
        if not 0 < self.interval_s < math.inf:
            raise WfmError(f"interval_s must be > 0, got {self.interval_s!r}")

    @classmethod
    def constant(cls, per_hour: float) -> PoissonArrivals:
        """A constant rate, contacts per hour."""
        return cls((per_hour,), 3600.0)

    def _rate(self, index: int) -> float:
        values = self.per_interval
        return values[min(index, len(values) - 1)] / self.interval_s

    def times(self, rng: random.Random, until_s: float) -> Iterator[float]:
        """Piecewise-constant rate: exponential gaps, restarted at each interval boundary."""
        expovariate = rng.expovariate
        last = len(self.per_interval) - 1
        index, start = 0, 0.0
        while start < until_s:
            end = until_s if index >= last else min((index + 1) * self.interval_s, until_s)
            rate = self._rate(index)
            t = start
            if rate > 0:
                while True:
                    t += expovariate(rate)
                    if t >= end:
                        break
                    yield t
            start, index = end, index + 1

    def expected(self, until_s: float) -> float:
        """Σ rate × length of each interval before ``until_s``."""
        total, index, start = 0.0, 0, 0.0
        last = len(self.per_interval) - 1
        while start < until_s:
            end = until_s if index >= last else min((index + 1) * self.interval_s, until_s)
            total += self._rate(index) * (end - start)
            start, index = end, index + 1
        return total


@dataclass(frozen=True, slots=True)
class ReplayedArrivals:
    """Arrivals at recorded times (seconds from the start), e.g. from the event log."""

    at_s: tuple[float, ...]

    def times(self, rng: random.Random, until_s: float) -> Iterator[float]:
        """The recorded times before ``until_s``, in order."""
        for t in sorted(self.at_s):
            if t >= until_s:
                return
            if t >= 0:
                yield t

    def expected(self, until_s: float) -> float:
        """How many recorded times fall before ``until_s``."""
        return float(sum(1 for t in self.at_s if 0 <= t < until_s))


@dataclass(frozen=True, slots=True)
class SimQueue:
    """A queue to simulate: the routing settings plus its traffic and KPI thresholds."""

    config: QueueConfig
    arrivals: ArrivalProcess
    handle_time: Distribution
    wrap_up: Distribution = ZERO
    patience: Distribution = NEVER
    priority: int = 0
    service_level_s: int = 20
    short_abandon_s: int = 5

    @property
    def queue_id(self) -> str:
        """The queue's id."""
        return self.config.queue_id

    @property
    def channel(self) -> str:
        """The queue's channel."""
        return self.config.channel


@dataclass(frozen=True, slots=True)
class Shift:
    """When an agent is logged in, seconds from the start (end ``inf``: until the run ends)."""

    start_s: float = 0.0
    end_s: float = math.inf


@dataclass(frozen=True, slots=True)
class SimAgent:
    """An agent to simulate: the routing configuration plus the shifts worked."""

    config: AgentConfig
    shifts: tuple[Shift, ...] = (Shift(),)
    group: str = ""

    @property
    def agent_id(self) -> str:
        """The agent's id."""
        return self.config.agent_id


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything one run needs: traffic, agents, clock, seed and limits."""

    queues: tuple[SimQueue, ...]
    agents: tuple[SimAgent, ...]
    duration_s: float
    warmup_s: float = 0.0
    seed: int = 0
    name: str = "scenario"
    start: datetime = DEFAULT_START
    max_contacts: int | None = None
    engine: EngineConfig = field(default_factory=EngineConfig)

    def __post_init__(self) -> None:
        if not 0 < self.duration_s < math.inf:
            raise WfmError(f"duration_s must be a finite number > 0, got {self.duration_s!r}")
        if not 0 <= self.warmup_s < self.duration_s:
            raise WfmError("warmup_s must be ≥ 0 and shorter than the duration")
        ids = [q.queue_id for q in self.queues]
        if not ids or len(set(ids)) != len(ids):
            raise WfmError("queues must be a non-empty list with distinct ids")
        agent_ids = [a.agent_id for a in self.agents]
        if len(set(agent_ids)) != len(agent_ids):
            raise WfmError("agent ids must be distinct")

    def expected_contacts(self) -> float:
        """Expected arrivals over the run (before any ``max_contacts`` cap)."""
        return sum(q.arrivals.expected(self.duration_s) for q in self.queues)


def single_queue(
    *,
    agents: int,
    arrivals_per_hour: float,
    handle_time: Distribution,
    patience: Distribution = NEVER,
    duration_s: float,
    warmup_s: float = 0.0,
    seed: int = 0,
    channel: str = "voice",
    max_contacts: int | None = None,
    service_level_s: int = 20,
) -> Scenario:
    """The textbook M/M/n(+M) centre: one queue, Poisson arrivals, ``agents`` identical agents.

    The short-abandon threshold is 0, so the service level counts every abandon as missed,
    as Erlang A does.
    """
    queue = SimQueue(
        config=QueueConfig("q", channel),
        arrivals=PoissonArrivals.constant(arrivals_per_hour),
        handle_time=handle_time,
        patience=patience,
        service_level_s=service_level_s,
        short_abandon_s=0,
    )
    capacity = {channel: 1}
    crew = tuple(
        SimAgent(AgentConfig(f"a{k:04d}", profile=(QueueMembership("q"),), capacity=capacity))
        for k in range(1, agents + 1)
    )
    return Scenario(
        queues=(queue,), agents=crew, duration_s=duration_s, warmup_s=warmup_s, seed=seed,
        name=f"M/M/{agents}", max_contacts=max_contacts,
    )

