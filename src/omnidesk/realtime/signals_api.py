"""`POST /interactions/{id}/typing`: an agent is typing (a signal, not an event)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from omnidesk.auth.principal import EVERYONE
from omnidesk.deps import DbDep, PrincipalDep
from omnidesk.interactions.service import held_by_caller
from omnidesk.realtime.signals import Signal, SignalBus
from omnidesk.schemas import WriteModel

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
        await held_by_caller(session, principal, interaction_id, what="type in")
    signals: SignalBus = request.app.state.signals
    await signals.publish(Signal(tenant_id=principal.tenant_id,
                                 interaction_id=str(interaction_id), signal="typing",
                                 who="agent", data={"typing": data.typing}))
    return TypingSent(sent=True)
