"""Supervision: what supervisors do to live work (whisper, move, monitor)."""
