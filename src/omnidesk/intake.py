"""Admission of new contacts: refused, to be retried, while routing lags behind.

A server that takes every new contact under sustained overload only queues contacts it
cannot route: minutes later they still wait, unoffered. Instead, a new contact is refused
with `Overloaded` (HTTP 503 with Retry-After, SIP 503, SMTP 451) before anything is stored
while the server is more than `OMNIDESK_MAX_ROUTING_LAG_SECONDS` behind: the oldest event
that the router or the desktops' streams have not handled yet was published longer ago, or
the contact's own HTTP request has waited longer in the server. The sender retries, and
nothing it was told was accepted is lost. Messages on open conversations are always taken.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.errors import Overloaded

DEFAULT_MAX_LAG_SECONDS = 2.0
INTAKE = "omnidesk_intake"  # session.info key: the Intake of the session's Database

Lag = Callable[[], float]  # seconds behind, in real time (not the server clock's)
# when the HTTP request being handled reached the server (time.perf_counter())
REQUEST_ARRIVED: ContextVar[float | None] = ContextVar("omnidesk_request_arrived",
                                                       default=None)


class Intake:
    """Whether this process takes new contacts now; the lags it watches are registered by
    the services that must keep up (the ACD, the stream hub)."""

    def __init__(self, max_lag_s: float = DEFAULT_MAX_LAG_SECONDS) -> None:
        self.max_lag_s = max_lag_s
        self._lags: list[Lag] = []

    def watch(self, lag: Lag) -> None:
        """Refuse new contacts while this lag is over the limit too."""
        self._lags.append(lag)

    def lag_seconds(self) -> float:
        """The largest of the watched lags now."""
        return max((lag() for lag in self._lags), default=0.0)

    def admit(self) -> None:
        """Return if a new contact may be taken; Overloaded (retry after about the lag)
        otherwise."""
        arrived = REQUEST_ARRIVED.get()
        waited = 0.0 if arrived is None else time.perf_counter() - arrived
        lag = max(self.lag_seconds(), waited)
        if lag > self.max_lag_s:
            raise Overloaded(f"the server is {lag:.1f} s behind; retry shortly",
                             retry_after_s=math.ceil(lag))


def admit_new_contact(session: AsyncSession) -> None:
    """`Intake.admit` of the Database the write session came from."""
    intake: Intake | None = session.info.get(INTAKE)
    if intake is not None:
        intake.admit()
