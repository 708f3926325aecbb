"""Time distributions for the simulator: small objects with ``sample(rng) -> seconds``.

Each is a frozen record (so a scenario is plain data) with one method; add a kind by
writing another class with ``mean`` and ``sample``. ``rng`` is a ``random.Random``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from omnidesk.wfm.erlang import WfmError


class Distribution(Protocol):
    """Anything with a mean and a way to draw one value (seconds) from a seeded generator."""

    @property
    def mean(self) -> float:
        """The distribution's mean, seconds (``inf`` for "never")."""
        ...

    def sample(self, rng: random.Random) -> float:
        """One value, seconds."""
        ...


@dataclass(frozen=True, slots=True)
class Exponential:
    """Exponential with the given mean (memoryless: Poisson processes, Erlang models)."""

    mean: float

    def __post_init__(self) -> None:
        if not 0 < self.mean < math.inf:
            raise WfmError(f"mean must be a finite number > 0, got {self.mean!r}")

    def sample(self, rng: random.Random) -> float:
        """One exponential value."""
        return rng.expovariate(1.0 / self.mean)


@dataclass(frozen=True, slots=True)
class Lognormal:
    """Lognormal given by its own mean and standard deviation (not those of the log)."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        if not 0 < self.mean < math.inf or not 0 < self.sd < math.inf:
            raise WfmError(
                f"mean and sd must be finite numbers > 0, got {self.mean!r}, {self.sd!r}")

    @property
    def _log_parameters(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: random.Random) -> float:
        """One lognormal value."""
        mu, sigma = self._log_parameters
        return rng.lognormvariate(mu, sigma)


@dataclass(frozen=True, slots=True)
class Deterministic:
    """Always the same value (``inf``: never, e.g. a customer who never abandons)."""

    value: float

    def __post_init__(self) -> None:
        if math.isnan(self.value) or self.value < 0:
            raise WfmError(f"value must be a number ≥ 0, got {self.value!r}")

    @property
    def mean(self) -> float:
        """The value itself."""
        return self.value

    def sample(self, rng: random.Random) -> float:
        """The value."""
        return self.value


@dataclass(frozen=True, slots=True)
class Empirical:
    """Resamples observed values uniformly (e.g. recorded handle times)."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values or any(not 0 <= v < math.inf for v in self.values):
            raise WfmError("values must be a non-empty list of finite numbers ≥ 0")

    @classmethod
    def of(cls, values: Sequence[float]) -> Empirical:
        """An empirical distribution of the given observations."""
        return cls(tuple(float(v) for v in values))

    @property
    def mean(self) -> float:
        """Mean of the observations."""
        return math.fsum(self.values) / len(self.values)

    def sample(self, rng: random.Random) -> float:
        """One of the observations, each equally likely."""
        values = self.values
        return values[int(rng.random() * len(values))]


NEVER = Deterministic(math.inf)
"""Patience of customers who never abandon."""
ZERO = Deterministic(0.0)
"""No time at all (e.g. no after-contact work)."""
