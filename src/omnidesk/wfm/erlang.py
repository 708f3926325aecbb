"""Erlang B, C and A queueing formulas: pure, float-safe for thousands of agents.

Units: traffic ``a`` in Erlangs, times (``aht``, ``t``, ``patience``) in seconds,
``n`` is the number of agents. See docs/wfm.md for the formulas and precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

# The Erlang B recursion is started late, from the lower bound B(n) ≥ 1 − n/a;
# its start error shrinks by at least e^-45 before it matters (docs/wfm.md).
_LOG_CONTRACTION = 45.0
# Erlang A queue-length series: stop once the remaining tail is this small a fraction.
_SERIES_TOLERANCE = 1e-17
# Erlang A series terms are rescaled by this factor to stay within float range.
_RESCALE = 1e200
_LOG_RESCALE = math.log(_RESCALE)
# More queue-length terms than this means patience is too long for an overloaded queue.
_MAX_QUEUE_TERMS = 1_000_000


class WfmError(ValueError):
    """Invalid input to a workforce-management calculation, or an unreachable target."""


def _check_agents(n: int, name: str = "n") -> None:
    """Raise WfmError unless n is a whole number of agents (≥ 1)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise WfmError(f"{name} must be a whole number of agents ≥ 1, got {n!r}")


def _check_positive(value: float, name: str) -> None:
    """Raise WfmError unless value is a finite number > 0."""
    if not math.isfinite(value) or value <= 0:
        raise WfmError(f"{name} must be a finite number > 0, got {value!r}")


def _check_non_negative(value: float, name: str) -> None:
    """Raise WfmError unless value is a finite number ≥ 0."""
    if not math.isfinite(value) or value < 0:
        raise WfmError(f"{name} must be a finite number ≥ 0, got {value!r}")


def traffic_intensity(calls: float, period_s: float, aht_s: float) -> float:
    """Offered traffic in Erlangs: arrivals per second times average handle time."""
    _check_positive(calls, "calls")
    _check_positive(period_s, "period_s")
    _check_positive(aht_s, "aht_s")
    return calls / period_s * aht_s


def _recursion_start(top: int, a: float) -> int:
    """Agent count from which the Erlang B recursion reaches B(top) to full precision."""
    # Steps k contract the start error by k/a; over j steps ending at `top` the
    # product is ≤ exp(-(j(1 − top/a) + j(j − 1)/(2a))). Solve for j at e^-45.
    slope = 1.0 - top / a - 0.5 / a
    steps = math.ceil(a * (math.sqrt(slope * slope + 2.0 * _LOG_CONTRACTION / a) - slope))
    return max(0, top - steps)


def _erlang_b_recursion(n: int, a: float) -> float:
    """Erlang B by the stable recursion, started where its start error cannot show."""
    start = _recursion_start(min(n, math.floor(a)), a)
    b = 1.0 - start / a  # exact B(0) = 1 when start is 0
    for k in range(start + 1, n + 1):
        carried = a * b
        b = carried / (k + carried)
    return b


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of n agents without a queue offered a Erlangs (Erlang B)."""
    _check_agents(n)
    _check_positive(a, "a")
    return _erlang_b_recursion(n, a)


def erlang_b_upward(first: int, a: float) -> Iterator[tuple[int, float]]:
    """Yield (n, B(n, a)) for n = first, first + 1, … without recomputing B each time."""
    _check_agents(first, "first")
    _check_positive(a, "a")
    n, b = first, _erlang_b_recursion(first, a)
    while True:
        yield n, b
        n += 1
        carried = a * b
        b = carried / (n + carried)


def waiting_from_blocking(n: int, a: float, b: float) -> float:
    """Erlang C probability of waiting from Erlang B's b; 1 when n ≤ a (unstable queue)."""
    if n <= a:
        return 1.0
    return n * b / (n - a * (1.0 - b))


def erlang_c(n: int, a: float) -> float:
    """Probability that a contact waits, n agents and a Erlangs (Erlang C, M/M/n)."""
    return waiting_from_blocking(n, a, erlang_b(n, a))


probability_of_waiting = erlang_c


def service_level_from_waiting(n: int, a: float, pw: float, aht: float, t: float) -> float:
    """Share of contacts answered within t seconds given Erlang C's pw; 0 when n ≤ a."""
    if n <= a:
        return 0.0
    return 1.0 - pw * math.exp(-(n - a) * t / aht)


def asa_from_waiting(n: int, a: float, pw: float, aht: float) -> float:
    """Average speed of answer in seconds given Erlang C's pw; inf when n ≤ a."""
    if n <= a:
        return math.inf
    return pw * aht / (n - a)


def service_level(n: int, a: float, aht: float, t: float) -> float:
    """Erlang C share of contacts answered within t seconds (0 when n ≤ a)."""
    _check_positive(aht, "aht")
    _check_non_negative(t, "t")
    return service_level_from_waiting(n, a, erlang_c(n, a), aht, t)


def asa(n: int, a: float, aht: float) -> float:
    """Erlang C average speed of answer in seconds (inf when n ≤ a)."""
    _check_positive(aht, "aht")
    return asa_from_waiting(n, a, erlang_c(n, a), aht)


def occupancy(n: int, a: float) -> float:
    """Erlang C agent occupancy a/n (above 1 means the queue grows without bound)."""
    _check_agents(n)
    _check_positive(a, "a")
    return a / n


@dataclass(frozen=True)
class ErlangAMetrics:
    """Steady-state figures of the M/M/n+M queue (Erlang A) for one staffing level."""

    probability_of_waiting: float
    """Share of arrivals that find every agent busy."""
    probability_of_abandonment: float
    """Share of arrivals that hang up before reaching an agent."""
    service_level: float
    """Share of all arrivals answered within t seconds (abandoned ones count as missed)."""
    asa: float
    """Average wait in seconds of answered contacts, zero waits included (KPIS.md ASA)."""
    average_time_in_queue: float
    """Average wait in seconds of all arrivals, whatever the outcome (= P(abandon)·patience)."""
    occupancy: float
    """Carried traffic per agent: a·(1 − P(abandon))/n."""


@dataclass(frozen=True)
class _QueueSums:
    """Logs of the sums over queue lengths j ≥ 0 of π(n + j)/π(n) with weights."""

    total: float
    """log Σ t_j: arrivals that wait."""
    served: float
    """log Σ t_j·s_j: arrivals that wait and are answered."""
    abandoned: float
    """log Σ t_j·(1 − s_j): arrivals that wait and abandon."""
    served_wait: float
    """log Σ t_j·s_j·w_j: total wait (in AHTs) of answered arrivals that waited."""


def _queue_sums(n: float, a: float, g: float) -> _QueueSums:
    """Sum the M/M/n+M queue-length terms t_j = Π_{i≤j} a/(n + i·g), rescaling as needed."""
    if (a - n) / g > _MAX_QUEUE_TERMS:
        raise WfmError(
            "patience is too long for so overloaded a queue "
            f"(about {(a - n) / g:.0f} waiting contacts); add agents or use Erlang C"
        )
    term, log_scale = 1.0, 0.0
    total = served = abandoned = served_wait = 0.0
    wait_if_answered = 0.0  # w_j: expected wait, in AHTs, of the (j+1)-th in line
    j = 0
    while True:
        leave_rate = n + (j + 1) * g  # rate at which the (j+1)-th in line moves or leaves
        answered_share = n / leave_rate  # s_j = Π of its chances to move on, not abandon
        wait_if_answered += 1.0 / leave_rate
        total += term
        served += term * answered_share
        abandoned += term * (j + 1) * g / leave_rate
        served_wait += term * answered_share * wait_if_answered
        ratio = a / leave_rate
        term *= ratio
        if ratio < 1.0 and term <= _SERIES_TOLERANCE * total * (1.0 - ratio) ** 2:
            break
        if term > _RESCALE:
            term /= _RESCALE
            total, served = total / _RESCALE, served / _RESCALE
            abandoned, served_wait = abandoned / _RESCALE, served_wait / _RESCALE
            log_scale += _LOG_RESCALE
        j += 1
    return _QueueSums(
        total=log_scale + math.log(total),
        served=log_scale + math.log(served),
        abandoned=log_scale + math.log(abandoned),
        served_wait=log_scale + math.log(served_wait),
    )


def _log_add(x: float, y: float) -> float:
    """log(e^x + e^y) without overflow."""
    high, low = max(x, y), min(x, y)
    if math.isinf(high):
        return high
    return high + math.log1p(math.exp(low - high))


def _log_answered_late(n: int, a: float, g: float, tau: float) -> float:
    """log Σ t_j·P(answered after waiting more than tau AHTs | j ahead in line)."""
    # Σ_j t_j·s_j·P(wait > τ) = q^(b+1)·e^(x(1−q))·b/(b+1)·M(b+1, x·q), with
    # q = e^(−g·τ), x = a/g, b = n/g and M the series that _queue_sums totals.
    decay = math.exp(-g * tau)
    return (
        -tau * (n + g)
        - a * math.expm1(-g * tau) / g
        + math.log(n / (n + g))
        + _queue_sums(n + g, a * decay, g).total
    )


def erlang_a(n: int, a: float, aht: float, patience: float, t: float) -> ErlangAMetrics:
    """Erlang A (M/M/n+M) figures: exponential patience of mean `patience` seconds."""
    _check_agents(n)
    _check_positive(a, "a")
    _check_positive(aht, "aht")
    _check_positive(patience, "patience")
    _check_non_negative(t, "t")
    g = aht / patience  # abandonment rate per waiting contact, per AHT
    blocking = _erlang_b_recursion(n, a)
    # π(k < n) / π(n) = 1/B − 1: the arrivals that are answered at once.
    log_no_wait = math.log1p(-blocking) - math.log(blocking) if blocking > 0 else math.inf
    sums = _queue_sums(n, a, g)
    log_norm = _log_add(log_no_wait, sums.total)
    log_answered = _log_add(log_no_wait, sums.served)
    answered = math.exp(log_answered - log_norm)
    abandonment = math.exp(sums.abandoned - log_norm)
    answered_late = math.exp(_log_answered_late(n, a, g, t / aht) - log_norm)
    return ErlangAMetrics(
        probability_of_waiting=math.exp(sums.total - log_norm),
        probability_of_abandonment=abandonment,
        service_level=_clamp_probability(answered - answered_late),
        asa=math.exp(sums.served_wait - log_answered) * aht,
        average_time_in_queue=abandonment * patience,
        occupancy=_clamp_probability(a * answered / n),
    )


def _clamp_probability(value: float) -> float:
    """Value clipped to [0, 1]: removes rounding noise (~1e-15) from a difference."""
    return min(1.0, max(0.0, value))
