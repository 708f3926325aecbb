"""An agent's phone answering or refusing a voice offer: the ACD accepts or rejects it."""

from __future__ import annotations

import contextlib
import uuid

from omnidesk.acd.service import AcdService
from omnidesk.channels.voice.config import ACTOR
from omnidesk.db import Database
from omnidesk.errors import Conflict
from omnidesk.interactions.models import Interaction
from omnidesk.interactions.states import InteractionState as S


async def take_offer(db: Database, acd: AcdService | None, interaction_id: uuid.UUID,
                     agent_id: uuid.UUID, *, accepted_counts: bool) -> bool:
    """Accept the agent's offer when their phone answers; False when it is not theirs now.

    With `accepted_counts`, an offer the agent's desktop accepted first counts as taken.
    """
    async with db.read() as session:
        interaction = await session.get(Interaction, interaction_id)
    if interaction is None or interaction.agent_id != agent_id:
        return False
    if interaction.state in (S.CONNECTED, S.ON_HOLD):
        return accepted_counts
    if interaction.state is not S.OFFERED or acd is None:
        return False
    try:
        await acd.accept(interaction.tenant_id, interaction.id, agent_id, actor=ACTOR)
    except Conflict:
        return False
    return True


async def decline_offer(db: Database, acd: AcdService | None, interaction_id: uuid.UUID,
                        agent_id: uuid.UUID) -> None:
    """Reject the agent's offer (their phone was busy or did not answer): the next agent."""
    async with db.read() as session:
        interaction = await session.get(Interaction, interaction_id)
    if acd is not None and interaction is not None and interaction.state is S.OFFERED \
            and interaction.agent_id == agent_id:
        with contextlib.suppress(Conflict):
            await acd.reject(interaction, agent_id, actor=ACTOR)
