"""SMS and WhatsApp through Twilio: form-encoded webhooks signed with X-Twilio-Signature."""
