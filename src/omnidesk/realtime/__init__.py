"""The WebSocket stream: a tenant's events, resumable from a sequence number."""
