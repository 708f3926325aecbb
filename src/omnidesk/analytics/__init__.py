"""KPI definitions and aggregation: pure functions over the event log (see docs/analytics.md)."""

from omnidesk.compiled import use_compiled

use_compiled(__name__, __path__)
