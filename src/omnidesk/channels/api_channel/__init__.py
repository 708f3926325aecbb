"""The generic, HMAC-signed API channel for any external system."""
