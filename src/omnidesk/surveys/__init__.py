"""Post-contact surveys (CSAT 1–5, NPS 0–10) on the contact's own channel or by a signed link.

See docs/surveys.md.
"""
