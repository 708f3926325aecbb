"""Workforce management: Erlang B/C/A queueing maths and staffing (docs/wfm.md)."""
