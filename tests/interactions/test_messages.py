"""Message positions come from the database, not from a writer's copy of the interaction."""

from __future__ import annotations

from sqlalchemy import select

from omnidesk.customers.models import Customer
from omnidesk.db import Database
from omnidesk.interactions.actions import add_message, create_interaction
from omnidesk.interactions.models import Interaction, Message
from tests.conftest import make_tenant


async def test_a_writer_with_a_stale_copy_still_takes_the_next_position(db: Database) -> None:
    # Two writers of one chat (the customer's message and a bot's timeout reply) each loaded
    # the interaction before the other wrote: both copies say "no messages yet".
    tenant_id = await make_tenant(db, "acme")
    async with db.write() as session:
        customer = Customer(tenant_id=tenant_id, created_at=db.clock.now())
        session.add(customer)
        await session.flush()
        interaction = await create_interaction(session, tenant_id=tenant_id, channel="chat",
                                               customer_id=customer.id, actor="test")
        interaction_id = interaction.id
    async with db.read() as session:
        stale = await session.get(Interaction, interaction_id)
        assert stale is not None and stale.message_count == 0
    async with db.write() as session:
        fresh = await session.get(Interaction, interaction_id)
        assert fresh is not None
        await add_message(session, fresh, author_kind="customer", body="hello?",
                          actor="customer")
    async with db.write() as session:
        late = await session.merge(stale, load=False)  # the copy read before that commit
        assert late.message_count == 0
        reply = await add_message(session, late, author_kind="bot", body="Still there?",
                                  actor="bot")
        assert reply.position == 2
    async with db.read() as session:
        positions = (await session.execute(
            select(Message.position, Message.body).where(Message.interaction_id == interaction_id)
            .order_by(Message.position))).all()
        count = await session.scalar(
            select(Interaction.message_count).where(Interaction.id == interaction_id))
    assert [tuple(row) for row in positions] == [(1, "hello?"), (2, "Still there?")]
    assert count == 2
