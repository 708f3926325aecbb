"""The post-call survey's dialogue: the question, the caller's key(s), one retry on silence
or a key off the scale (a fake port replays key presses; None: the caller waited)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from omnidesk.channels.voice.ivr import INTER_DIGIT_SECONDS
from omnidesk.channels.voice.survey import RETRY, ask_score

QUESTION = "Press 1 to 5."


@dataclass
class Caller:
    """A SurveyPort that replays key presses and remembers what it heard and waited."""

    presses: list[str | None]
    heard: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    async def speak(self, text: str) -> None:
        self.heard.append(text)

    async def next_digit(self, wait_seconds: float) -> str | None:
        self.waits.append(wait_seconds)
        return self.presses.pop(0) if self.presses else None


@pytest.mark.parametrize(("kind", "presses", "score", "asked"), [
    ("csat", ["4"], 4, 1),
    ("csat", [None, "5"], 5, 2),  # silence: asked once more
    ("csat", ["9", "3"], 3, 2),  # off the scale: asked once more
    ("csat", ["*", "1"], 1, 2),
    ("csat", ["#", "2"], 2, 2),
    ("csat", [None, None], None, 2),  # one retry only
    ("csat", ["0", "6"], None, 2),
    ("nps", ["1", "0"], 10, 1),
    ("nps", ["1", None], 1, 1),  # "1" could have become "10": the pause ends it
    ("nps", ["1", "#"], 1, 1),
    ("nps", ["0"], 0, 1),
    ("nps", ["7"], 7, 1),
    ("nps", ["1", "1", "8"], 8, 2),  # 11 is off the 0–10 scale
])
async def test_the_caller_answers_with_keys_and_gets_one_retry(
        kind: str, presses: list[str | None], score: int | None, asked: int) -> None:
    caller = Caller(presses)
    assert await ask_score(caller, kind=kind, question=QUESTION, timeout_seconds=6) == score
    assert caller.heard == [QUESTION, f"{RETRY} {QUESTION}"][:asked]


async def test_the_first_key_gets_the_timeout_and_a_second_the_inter_digit_pause() -> None:
    caller = Caller(["1", "0"])
    assert await ask_score(caller, kind="nps", question=QUESTION, timeout_seconds=6) == 10
    assert caller.waits == [6, INTER_DIGIT_SECONDS]
