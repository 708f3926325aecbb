"""Interactions (every contact on every channel) and their messages."""
