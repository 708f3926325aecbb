"""`POST /interactions/{id}/typing`: an agent is typing (a signal, not an event)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from omnidesk.agents.service import agent_id_of_user
from omnidesk.auth.principal import EVERYONE, STAFF
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.errors import Forbidden
from omnidesk.interactions.models import Interaction
from omnidesk.realtime.signals import Signal, SignalBus
from omnidesk.schemas import WriteModel
from omnidesk.scoping import get_in_tenant

router = APIRouter(prefix="/interactions", tags=["interactions"])


class TypingIn(WriteModel):
    """Whether the agent is typing now (true) or stopped (false)."""

    typing: bool = True


class TypingSent(WriteModel):
    """The signal went out (to whoever listens now; it is not stored)."""

    sent: bool


@router.post("/{interaction_id}/typing", response_model=TypingSent,
             status_code=status.HTTP_202_ACCEPTED, responses={403: {}, 404: {}})
async def agent_typing(interaction_id: uuid.UUID, data: TypingIn, request: Request, db: DbDep,
                       principal: PrincipalDep) -> TypingSent:
    """Tell the customer (a web chat visitor) that the agent is typing; never logged."""
    principal.require(*EVERYONE)
    async with db.read() as session:
        interaction = await get_in_tenant(session, Interaction, interaction_id,
                                          tenant_id=principal.tenant_id, what="interaction")
        if principal.role not in STAFF:
            agent_id = await agent_id_of_user(session, tenant_id=principal.tenant_id,
                                              user_id=principal.user_id)
            if agent_id is None or interaction.agent_id != agent_id:
                raise Forbidden("only the agent handling the interaction can type in it",
                                field="interaction_id")
    signals: SignalBus = request.app.state.signals
    await signals.publish(Signal(tenant_id=principal.tenant_id,
                                 interaction_id=str(interaction_id), signal="typing",
                                 who="agent", data={"typing": data.typing}))
    return TypingSent(sent=True)
