"""Customers and identities (kind + normalised value, unique per tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from omnidesk.db import Base, JsonDocument, UtcDateTime, new_id


class Customer(Base):
    """A person or organisation contacting the center; merged ones point at the survivor."""

    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="customer", lazy="selectin", cascade="all, delete-orphan")


class Identity(Base):
    """One way to reach a customer: an E.164 phone, an email address, a chat visitor id …"""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "value"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))

    customer: Mapped[Customer] = relationship(back_populates="identities")
