"""The post-call survey by DTMF: a SIPp caller is bridged to the agent's phone (SIPp as UAS),
the phone hangs up, and the caller — still on the line — hears the survey and answers with an
RFC 4733 "4"; a caller who hangs up during the survey leaves no answer; without a survey the
caller gets our BYE as soon as the agent hangs up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from omnidesk.interactions.states import InteractionState
from omnidesk.surveys.models import Survey
from tests.voice.conftest import Phone, create_channel, free_port
from tests.voice.test_sipp_agent import agent_ready, finish, register, start_phone


async def survey_line(phone: Phone, survey: Any) -> None:
    """Voice channel 301 (no IVR, queue support) with the given `survey` setting."""
    await create_channel(phone, kind="voice", name="d-survey-line", default_queue="support",
                         settings={"numbers": ["301"], "announce_seconds": 0,
                                   "survey": survey})


async def agent_phone_that_hangs_up(phone: Phone) -> asyncio.subprocess.Process:
    """Agent Ana available, her phone registered: SIPp answering and hanging up after 1 s."""
    await agent_ready(phone)
    phone_port = free_port()
    assert await asyncio.to_thread(register, phone.voice.port, phone_port) == 200
    return await start_phone(phone, "agent_hangup.xml", phone_port)


async def agent_done(phone: Phone, agent_phone: asyncio.subprocess.Process) -> None:
    """The agent's phone hung up and had its 200."""
    errors = phone.workdir / "agent_hangup.xml.errors.log"
    assert await finish(agent_phone) == 0, errors.read_text() if errors.exists() else ""


async def surveys(phone: Phone) -> list[Survey]:
    """Every survey row."""
    async with phone.api.db.read() as session:
        return list(await session.scalars(select(Survey)))


async def test_the_caller_rates_the_call_by_dtmf_after_the_agent_hangs_up(
        phone: Phone) -> None:
    await survey_line(phone, {"kind": "csat", "timeout_seconds": 5})
    agent_phone = await agent_phone_that_hangs_up(phone)
    result = await phone.sipp("call_survey.xml", "-s", "301")
    assert result.returncode == 0, phone.explain("call_survey.xml")
    await agent_done(phone, agent_phone)

    ended = await phone.wait_for_event("call.ended")
    assert ended.payload["reason"] == "local_bye"  # we hung up, after the thanks
    (interaction,) = await phone.interactions()
    assert interaction.channel == "voice"
    assert interaction.state is InteractionState.WRAP_UP
    types = [e.type for e in await phone.events(str(interaction.id))]
    assert types.index("call.bridged") < types.index("interaction.wrap_up_started") \
        < types.index("survey.sent") < types.index("survey.answered") \
        < types.index("call.ended")
    events = (await phone.api.client.get("/api/v1/events", headers=phone.admin,
                                         params={"limit": 500})).json()
    [answered] = [e for e in events if e["type"] == "survey.answered"]
    assert answered["subject"] == str(interaction.id)
    assert {k: answered["payload"][k] for k in ("interaction_id", "kind", "score", "via")} == {
        "interaction_id": str(interaction.id), "kind": "csat", "score": 4, "via": "dtmf"}
    [survey] = await surveys(phone)
    assert (survey.status, survey.score, survey.via) == ("answered", 4, "dtmf")
    assert survey.interaction_id == interaction.id


async def test_a_caller_who_hangs_up_during_the_survey_leaves_no_answer(phone: Phone) -> None:
    await survey_line(phone, "csat")  # 8 s for a key, and a retry: the caller leaves first
    agent_phone = await agent_phone_that_hangs_up(phone)
    result = await phone.sipp("call_audio.xml", "-s", "301", "-d", "3000")
    assert result.returncode == 0, phone.explain("call_audio.xml")
    await agent_done(phone, agent_phone)

    ended = await phone.wait_for_event("call.ended")
    assert ended.payload["reason"] == "remote_bye"
    (interaction,) = await phone.interactions()
    assert interaction.state is InteractionState.WRAP_UP
    types = [e.type for e in await phone.events(str(interaction.id))]
    assert types.index("call.bridged") < types.index("survey.sent") < types.index("call.ended")
    assert "survey.answered" not in types
    [survey] = await surveys(phone)
    assert (survey.status, survey.score) == ("skipped", None)
    assert not phone.voice.legs


@pytest.mark.parametrize("survey", [None, {"kind": "csat", "queues": ["sales"]}],
                         ids=["no-survey", "survey-of-another-queue"])
async def test_without_a_survey_the_caller_is_hung_up_with_the_agent(
        phone: Phone, survey: Any) -> None:
    await survey_line(phone, survey)  # the call is queued on support
    agent_phone = await agent_phone_that_hangs_up(phone)
    loop = asyncio.get_running_loop()
    caller = asyncio.create_task(phone.sipp("call_survey.xml", "-s", "301"))
    await phone.wait_for_event("call.bridged", seconds=20)
    bridged_at = loop.time()
    result = await caller
    assert result.returncode == 0, phone.explain("call_survey.xml")
    assert loop.time() - bridged_at < 4  # the phone hangs up after 1 s: our BYE follows
    await agent_done(phone, agent_phone)

    ended = await phone.wait_for_event("call.ended")
    assert ended.payload["reason"] == "local_bye"
    (interaction,) = await phone.interactions()
    assert interaction.state is InteractionState.WRAP_UP
    types = [e.type for e in await phone.events(str(interaction.id))]
    assert not [t for t in types if t.startswith("survey.")]
    assert await surveys(phone) == []
