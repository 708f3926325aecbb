"""Surveys: which contacts get one, sending it, and recording the answer (`survey.answered`,
the event the CSAT and NPS KPIs count: `interaction_id`, `kind`, `score`)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.channels.models import Channel
from omnidesk.db import session_now
from omnidesk.events.log import record
from omnidesk.flows.nodes import SCALES, survey_score
from omnidesk.interactions.actions import add_message
from omnidesk.interactions.models import Interaction, Message
from omnidesk.interactions.states import InteractionState
from omnidesk.queues.models import Queue
from omnidesk.surveys.models import Survey
from omnidesk.surveys.tokens import sign

log = logging.getLogger("omnidesk.surveys")
ACTOR = "survey"
KINDS = ("csat", "nps")
NO_SURVEY_CHANNELS = frozenset({"voice"})  # asked by DTMF when the agent hangs up: open_call_survey
LINK_CHANNELS = frozenset({"email"})  # one email per answer would be clumsy: a link instead
DEFAULT_EXPIRES_HOURS = 72
DEFAULT_TIMEOUT_SECONDS = 8.0  # voice: how long to wait for the caller's key press
QUESTIONS = {
    "csat": "How satisfied are you with our help today? Reply with a number from "
            "1 (not at all) to 5 (very satisfied).",
    "nps": "How likely are you to recommend us to a friend or colleague? Reply with a number "
           "from 0 (not at all likely) to 10 (extremely likely).",
}
LINK_QUESTIONS = {
    "csat": "How satisfied are you with our help? It takes one click: {link}",
    "nps": "How likely are you to recommend us to a friend or colleague? Tell us here: {link}",
}
VOICE_QUESTIONS = {
    "csat": "Please rate the help you had today. Press a key from 1, not satisfied, "
            "to 5, very satisfied.",
    "nps": "How likely are you to recommend us to a friend or colleague? Press a number from "
           "0, not at all likely, to 10, extremely likely.",
}
THANKS = "Thank you for your feedback!"


@dataclass(frozen=True, slots=True)
class SurveyConfig:
    """A channel's `settings.survey`: "csat" / "nps", or an object with more options."""

    kind: str
    queues: tuple[str, ...] = ()
    expires_hours: float = DEFAULT_EXPIRES_HOURS
    text: str | None = None
    thanks: str = THANKS
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


def score_options(kind: str) -> list[dict[str, str]]:
    """The scale's scores as a message's options (buttons on the web chat)."""
    low, high = SCALES[kind]
    return [{"value": str(score), "label": str(score)} for score in range(low, high + 1)]


def survey_config(settings: dict[str, Any]) -> SurveyConfig | None:
    """The survey a channel asks for, or None (not set, or set to something we don't know:
    logged, and no survey sent rather than a wrong one)."""
    value = settings.get("survey")
    if value in (None, False, "", "none", "off"):
        return None
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        log.warning("channel setting survey=%r is not csat, nps or {kind: …}: no survey", value)
        return None
    queues = value.get("queues") or ()
    hours = value.get("expires_hours", DEFAULT_EXPIRES_HOURS)
    wait = value.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if not isinstance(queues, list | tuple) or not _positive(hours) or not _positive(wait):
        log.warning("channel setting survey=%r has bad queues, expires_hours or "
                    "timeout_seconds: no survey", value)
        return None
    text = value.get("text")
    thanks = value.get("thanks")
    return SurveyConfig(kind=value["kind"], queues=tuple(str(q) for q in queues),
                        expires_hours=float(hours), text=text if isinstance(text, str) else None,
                        thanks=thanks if isinstance(thanks, str) else THANKS,
                        timeout_seconds=float(wait))


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True, slots=True)
class Sent:
    """A survey just sent: its message's event is delivered after the commit."""

    survey: Survey
    message: Message


async def send_survey(session: AsyncSession, interaction: Interaction, *, key: str,
                      public_url: str) -> Sent | None:
    """Send the channel's survey for a closed contact an agent handled (once per kind)."""
    if interaction.state is not InteractionState.CLOSED \
            or interaction.channel in NO_SURVEY_CHANNELS:
        return None
    due = await _due(session, interaction)
    if due is None:
        return None
    channel, config = due
    now = session_now(session)
    via = "link" if channel.kind in LINK_CHANNELS else "message"
    survey = Survey(tenant_id=interaction.tenant_id, interaction_id=interaction.id,
                    customer_id=interaction.customer_id, channel_id=channel.id,
                    kind=config.kind, via=via, status="sent", sent_at=now,
                    expires_at=now + timedelta(hours=config.expires_hours))
    session.add(survey)
    await session.flush()
    if via == "link":
        base = str(channel.settings.get("public_url") or public_url).rstrip("/")
        link = f"{base}/survey/{sign(survey.id, key=key)}"
        body = (config.text or LINK_QUESTIONS[config.kind]).replace("{link}", link)
        if link not in body:
            body = f"{body}\n{link}"
    else:
        body = config.text or QUESTIONS[config.kind]
    message = await add_message(session, interaction, author_kind="bot", body=body, actor=ACTOR,
                                options=None if via == "link" else score_options(config.kind))
    await record(session, tenant_id=interaction.tenant_id, type="survey.sent",
                 subject=interaction.id,
                 payload={"interaction_id": str(interaction.id), "survey_id": str(survey.id),
                          "kind": config.kind, "via": via}, actor=ACTOR)
    return Sent(survey=survey, message=message)


async def _due(session: AsyncSession,
               interaction: Interaction) -> tuple[Channel, SurveyConfig] | None:
    """The channel's survey for a contact an agent handled (`connected_at` set), when the
    contact's queue is one the survey is for and it had no survey of that kind yet."""
    if interaction.connected_at is None or interaction.channel_id is None:
        return None
    channel = await session.get(Channel, interaction.channel_id)
    config = survey_config(channel.settings) if channel is not None else None
    if channel is None or config is None:
        return None
    if config.queues:
        queue_name = await session.scalar(select(Queue.name).where(
            Queue.id == interaction.queue_id, Queue.tenant_id == interaction.tenant_id))
        if queue_name not in config.queues:
            return None
    exists = await session.scalar(select(Survey.id).where(
        Survey.interaction_id == interaction.id, Survey.kind == config.kind))
    if exists is not None:
        return None
    return channel, config


@dataclass(frozen=True, slots=True)
class CallSurvey:
    """A survey opened on a call: what the caller hears and how long to wait for a key."""

    survey_id: uuid.UUID
    kind: str
    question: str
    thanks: str
    timeout_seconds: float


async def open_call_survey(session: AsyncSession, interaction: Interaction, *,
                           actor: str) -> CallSurvey | None:
    """Open the channel's survey of a call whose agent just hung up (the caller stays on the
    line and answers by DTMF): the row (`via` dtmf) and `survey.sent`; None when the channel
    asks for none, the queue is not surveyed, or the contact already had one."""
    due = await _due(session, interaction)
    if due is None:
        return None
    channel, config = due
    now = session_now(session)
    survey = Survey(tenant_id=interaction.tenant_id, interaction_id=interaction.id,
                    customer_id=interaction.customer_id, channel_id=channel.id,
                    kind=config.kind, via="dtmf", status="sent", sent_at=now,
                    expires_at=now + timedelta(hours=config.expires_hours))
    session.add(survey)
    await session.flush()
    await record(session, tenant_id=interaction.tenant_id, type="survey.sent",
                 subject=interaction.id,
                 payload={"interaction_id": str(interaction.id), "survey_id": str(survey.id),
                          "kind": config.kind, "via": "dtmf"}, actor=actor)
    return CallSurvey(survey_id=survey.id, kind=config.kind,
                      question=config.text or VOICE_QUESTIONS[config.kind],
                      thanks=config.thanks, timeout_seconds=config.timeout_seconds)


async def close_call_survey(session: AsyncSession, survey_id: uuid.UUID, score: int | None, *,
                            actor: str) -> None:
    """The end of a call's survey: the caller's score recorded (`survey.answered`, as on every
    channel), or none (no key, or the caller hung up): `skipped`. Only an open survey."""
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.status != "sent":
        return
    if score is None:
        survey.status = "skipped"
    else:
        await answer(session, survey, score, actor=actor)


async def answer(session: AsyncSession, survey: Survey, score: int, *, actor: str) -> None:
    """Record a survey's answer: the row, and `survey.answered` for the KPIs."""
    survey.status = "answered"
    survey.score = score
    survey.answered_at = session_now(session)
    await record(session, tenant_id=survey.tenant_id, type="survey.answered",
                 subject=survey.interaction_id,
                 payload={"interaction_id": str(survey.interaction_id), "kind": survey.kind,
                          "score": score, "via": survey.via, "survey_id": str(survey.id)},
                 actor=actor)


@dataclass(frozen=True, slots=True)
class Reply:
    """A customer's message taken as a survey answer, stored on the surveyed contact."""

    interaction: Interaction
    message: Message


async def take_reply(session: AsyncSession, *, channel: Channel, customer_id: uuid.UUID,
                     body: str, actor: str, author_id: str | None = None,
                     external_id: str | None = None) -> Reply | None:
    """If the customer has an open survey on this channel and the message is a score on its
    scale ("4", "4/5", "9 of 10"), record the answer on the surveyed (closed) contact and
    thank them; the message is then not a new contact. Any other message ends the survey
    unanswered (status `skipped`) and is a new contact as usual."""
    now = session_now(session)
    survey = await session.scalar(
        select(Survey).where(Survey.tenant_id == channel.tenant_id,
                             Survey.customer_id == customer_id,
                             Survey.channel_id == channel.id, Survey.status == "sent",
                             Survey.via == "message", Survey.expires_at > now)
        .order_by(Survey.sent_at.desc()).limit(1))
    if survey is None:
        return None
    score = survey_score(survey.kind, body)
    if score is None:
        survey.status = "skipped"
        return None
    interaction = await session.get(Interaction, survey.interaction_id)
    if interaction is None:
        return None
    message = await add_message(session, interaction, author_kind="customer", body=body,
                                actor=actor, author_id=author_id, external_id=external_id)
    await answer(session, survey, score, actor=actor)
    config = survey_config(channel.settings)
    await add_message(session, interaction, author_kind="bot",
                      body=config.thanks if config is not None else THANKS, actor=ACTOR)
    return Reply(interaction=interaction, message=message)
