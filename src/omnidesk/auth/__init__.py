"""Authentication (passwords, JWTs, API keys) and role checks."""
