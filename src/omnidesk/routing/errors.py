"""The routing engine's errors; the server turns each into a clear HTTP or CLI message."""

from __future__ import annotations

from omnidesk.errors import Conflict, InvalidInput, NotFound


class RoutingConfigError(InvalidInput):
    """A queue, agent or engine setting the engine cannot work with."""

    code = "routing_config_invalid"


class ExpressionSyntaxError(RoutingConfigError):
    """A routing expression that does not parse; names the column and what was expected."""

    code = "routing_expression_invalid"

    def __init__(self, source: str, column: int, expected: str, found: str) -> None:
        super().__init__(
            f"column {column}: expected {expected}, found {found} in {source!r}",
            field="expression",
        )
        self.source = source
        self.column = column
        self.expected = expected
        self.found = found


class UnknownRoutingObject(NotFound):
    """An event names an agent, queue or interaction the engine does not know."""

    code = "routing_object_unknown"


class OfferConflict(Conflict):
    """An accept or reject for an offer that is no longer live (expired, withdrawn)."""

    code = "offer_not_live"
