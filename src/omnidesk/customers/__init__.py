"""Customers and their identities on every channel."""
