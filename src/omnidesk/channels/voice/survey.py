"""The post-call survey by DTMF: after the agent hung up, the caller hears the question and
answers with one key (two for an NPS of 10); no key in time, or a key off the scale, gets the
question once more. Nothing here touches SIP or the database (see docs/surveys.md)."""

from __future__ import annotations

from typing import Protocol

from omnidesk.channels.voice.ivr import INTER_DIGIT_SECONDS, TERMINATOR
from omnidesk.flows.nodes import SCALES, survey_score

ATTEMPTS = 2  # the question, and one retry
RETRY = "Sorry, I did not get that."
GOODBYE = "Thank you for calling. Goodbye."


class SurveyPort(Protocol):
    """What the survey needs of the call."""

    async def speak(self, text: str) -> None:
        """Say the text to the caller (returns when said)."""

    async def next_digit(self, wait_seconds: float) -> str | None:
        """The caller's next key press, or None after the wait."""


async def ask_score(port: SurveyPort, *, kind: str, question: str,
                    timeout_seconds: float) -> int | None:
    """Ask, wait for the caller's key(s), ask once more on silence or a key off the scale; the
    score on the `kind` scale (csat 1–5, nps 0–10), or None."""
    high = SCALES[kind][1]
    for attempt in range(ATTEMPTS):
        await port.speak(question if attempt == 0 else f"{RETRY} {question}")
        keys = await keys_pressed(port, high=high, timeout_seconds=timeout_seconds)
        score = survey_score(kind, keys) if keys.isdigit() else None
        if score is not None:
            return score
    return None


async def keys_pressed(port: SurveyPort, *, high: int, timeout_seconds: float) -> str:
    """The keys of one answer: the first within `timeout_seconds`; a second only while the
    digits so far can still grow into a score up to `high` ("1" → "10" on 0–10), until `#`
    or a pause. '' when nothing came."""
    keys = ""
    while True:
        key = await port.next_digit(timeout_seconds if not keys else INTER_DIGIT_SECONDS)
        if key is None or key == TERMINATOR:
            return keys
        keys += key
        if not keys.isdigit() or keys.startswith("0") or int(keys) * 10 > high:
            return keys
