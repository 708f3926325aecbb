"""Typed domain events, the append-only event log and the bus."""
