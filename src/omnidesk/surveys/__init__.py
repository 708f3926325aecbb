"""Post-contact surveys (CSAT 1–5, NPS 0–10) on the contact's own channel, by a signed link, or
by DTMF on the call when the agent hangs up.

See docs/surveys.md.
"""
