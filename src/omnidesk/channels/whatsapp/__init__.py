"""WhatsApp through Meta's Cloud API: JSON webhooks signed with X-Hub-Signature-256."""
