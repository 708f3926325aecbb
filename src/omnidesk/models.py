"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from omnidesk.agents.models import Agent, AgentSkill, Skill, Team
from omnidesk.analytics.models import AnalyticsSettings, FillCheckpoint, PendingFcr
from omnidesk.channels.models import Channel, IdempotencyRecord
from omnidesk.customers.models import Customer, Identity
from omnidesk.db import Base
from omnidesk.events.models import Event
from omnidesk.interactions.models import Interaction, Message
from omnidesk.queues.models import Queue, QueueSkill
from omnidesk.tenants.models import Tenant
from omnidesk.users.models import ApiKey, User

__all__ = [
    "Agent", "AgentSkill", "AnalyticsSettings", "ApiKey", "Base", "Channel", "Customer", "Event",
    "FillCheckpoint", "IdempotencyRecord", "Identity", "Interaction", "Message", "PendingFcr",
    "Queue", "QueueSkill", "Skill", "Team", "Tenant", "User",
]
