"""Self-service flows on the messaging channels."""
