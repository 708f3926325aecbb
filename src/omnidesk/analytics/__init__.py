"""KPI definitions and aggregation: pure functions over the event log (see docs/analytics.md)."""
