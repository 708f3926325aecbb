"""Phone calls through Twilio Programmable Voice: signed webhooks answered with TwiML
(docs/channels/twilio-voice.md)."""
