"""After-contact work: the agent's state follows wrap-up when it is the agent's last contact.

When an agent starts wrap-up and holds no other live contact (connected or on hold), the
agent goes to `after_call_work` (reason `wrap_up`), so the router offers nothing new while
they finish; when the last wrap-up ends (closed), an agent still in that state goes back to
`available`. An agent still talking to other customers stays as they are (their wrap-up
holds one unit of capacity until it is closed), and a state the agent chose themselves in
between (a break) is never overridden.
"""

from __future__ import annotations

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from omnidesk.agents.actions import change_state as change_agent_state
from omnidesk.agents.models import Agent, AgentState
from omnidesk.agents.schemas import AgentStateChange
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.states import InteractionState

S = InteractionState
ACW_REASON = "wrap_up"


def _agent_and_others(states: tuple[InteractionState, ...]) -> Select[Agent, int]:
    """The interaction's agent, and how many other interactions they hold in these states."""
    others = select(func.count()).select_from(Interaction).where(
        Interaction.tenant_id == bindparam("tenant_id"),
        Interaction.agent_id == bindparam("agent_id"), Interaction.id != bindparam("id"),
        Interaction.state.in_(states)).scalar_subquery()
    return (select(Agent, others).where(Agent.id == bindparam("agent_id"))
            .options(raiseload(Agent.skills)))


# Every wrap-up and close runs one: built once (docs/development.md, "the hot path").
_WHEN_WRAPPING_UP = _agent_and_others((S.CONNECTED, S.ON_HOLD))
_WHEN_CLOSING = _agent_and_others((S.WRAP_UP,))


async def follow_wrap_up(session: AsyncSession, interaction: Interaction,
                         previous: InteractionState, *, actor: str) -> None:
    """Apply the after-contact-work rules after `interaction` moved from `previous`."""
    if interaction.agent_id is None:
        return
    if interaction.state is S.WRAP_UP:
        query = _WHEN_WRAPPING_UP
    elif interaction.state is S.CLOSED and previous is S.WRAP_UP:
        query = _WHEN_CLOSING
    else:
        return
    found = (await session.execute(query, {  # the agent and their other contacts at once
        "tenant_id": interaction.tenant_id, "agent_id": interaction.agent_id,
        "id": interaction.id})).first()
    if found is None:
        return
    agent, others = found
    if interaction.state is S.WRAP_UP and agent.state is AgentState.AVAILABLE and not others:
        await change_agent_state(session, agent, AgentStateChange(
            state=AgentState.AFTER_CALL_WORK, reason=ACW_REASON), actor=actor)
    elif (interaction.state is S.CLOSED and agent.state is AgentState.AFTER_CALL_WORK
          and agent.state_reason == ACW_REASON and not others):
        await change_agent_state(session, agent, AgentStateChange(state=AgentState.AVAILABLE),
                                 actor=actor)
