"""Queues: required skills, priority, service-level target, business hours."""
