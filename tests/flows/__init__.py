"""Tests of the self-service flow engine (omnidesk.flows)."""
