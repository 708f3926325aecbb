"""API shapes of queues."""

from __future__ import annotations

import enum
import uuid
from datetime import date
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from omnidesk.schemas import Name, ReadModel, TimeZoneName, WriteModel

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
OpeningHours = dict[str, list[tuple[ClockTime, ClockTime]]]


class Strategy(enum.StrEnum):
    """How a queue picks among eligible agents."""

    LONGEST_IDLE = "longest_idle"
    LEAST_OCCUPIED = "least_occupied"
    ROUND_ROBIN = "round_robin"
    MOST_SKILLED = "most_skilled"


class MediaChannel(enum.StrEnum):
    """The kind of work a queue holds; agent capacity is counted per media channel."""

    VOICE = "voice"
    VIDEO = "video"
    CHAT = "chat"
    MESSAGING = "messaging"
    SOCIAL = "social"
    EMAIL = "email"


class RequiredSkill(WriteModel):
    """A skill the queue requires, with the minimum proficiency."""

    skill: Name
    min_proficiency: Annotated[int, Field(ge=1, le=5)] = 1


class EscalationStep(WriteModel):
    """After `after_seconds` of wait: widen who may take the contact, or move it."""

    after_seconds: Annotated[int, Field(ge=1, le=86_400)]
    lower_proficiency_by: Annotated[int, Field(ge=0, le=4)] = 0
    drop_skills: list[Name] = []
    add_teams: list[Name] = []
    overflow_to: Name | None = None


class OutcomeKind(enum.StrEnum):
    """What happens to a contact the queue will not keep."""

    MESSAGE_THEN_END = "message_then_end"
    CALLBACK_OFFER = "callback_offer"
    DISCONNECT = "disconnect"


class QueueOutcomeSpec(WriteModel):
    """An outcome with the message the customer gets."""

    kind: OutcomeKind = OutcomeKind.DISCONNECT
    message: Annotated[str, StringConstraints(max_length=2000)] = ""


class QueueOutcomes(WriteModel):
    """Outcomes when the queue is closed, full, or a contact waited too long."""

    closed: QueueOutcomeSpec = QueueOutcomeSpec()
    full: QueueOutcomeSpec = QueueOutcomeSpec()
    max_wait: QueueOutcomeSpec = QueueOutcomeSpec()


def _check_hours(hours: OpeningHours) -> OpeningHours:
    for day, spans in hours.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown day {day!r}; use {', '.join(WEEKDAYS)}")
        for opens, closes in spans:
            if opens >= closes:
                raise ValueError(f"{day}: opening {opens} is not before closing {closes}")
    return hours


class QueueSettings(WriteModel):
    """Everything configurable on a queue (all optional on update)."""

    channel: MediaChannel | None = None
    priority: Annotated[int, Field(ge=0, le=100)] | None = None
    strategy: Strategy | None = None
    service_level_seconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    service_level_goal_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    short_abandon_seconds: Annotated[int, Field(ge=0, le=3_600)] | None = None
    offer_timeout_seconds: Annotated[int, Field(ge=1, le=3_600)] | None = None
    timezone: TimeZoneName | None = None
    business_hours: OpeningHours | None = None
    holidays: list[date] | None = None
    skills: list[RequiredSkill] | None = None
    ageing_per_second: Annotated[float, Field(ge=0, le=100)] | None = None
    escalation: list[EscalationStep] | None = None
    max_wait_seconds: Annotated[int, Field(ge=1, le=7 * 86_400)] | None = None
    max_size: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    outcomes: QueueOutcomes | None = None

    @field_validator("business_hours")
    @classmethod
    def _valid_hours(cls, hours: OpeningHours | None) -> OpeningHours | None:
        return None if hours is None else _check_hours(hours)


class QueueCreate(QueueSettings):
    """A new queue; unset settings take the defaults (80 % in 20 s, 5 s short abandon …)."""

    name: Name


class QueueUpdate(QueueSettings):
    """Changes to a queue."""

    name: Name | None = None


class QueueSkillRead(ReadModel):
    """A required skill (by id)."""

    skill_id: uuid.UUID
    min_proficiency: int


class QueueRead(ReadModel):
    """A queue as the API shows it."""

    id: uuid.UUID
    name: str
    channel: str
    priority: int
    strategy: str
    service_level_seconds: int
    service_level_goal_pct: float
    short_abandon_seconds: int
    offer_timeout_seconds: int
    timezone: str
    business_hours: dict[str, list[list[str]]]
    holidays: list[str]
    required_skills: list[QueueSkillRead]
    ageing_per_second: float
    escalation: list[dict[str, Any]]
    max_wait_seconds: int | None
    max_size: int | None
    outcomes: dict[str, Any]
