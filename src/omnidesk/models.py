"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from omnidesk.agents.models import Agent, AgentSkill, Skill, Team
from omnidesk.analytics.models import AnalyticsSettings, FillCheckpoint, PendingFcr
from omnidesk.canned.models import CannedResponse
from omnidesk.channels.models import Channel, IdempotencyRecord
from omnidesk.channels.webchat.models import WebchatUpload, WebchatVisitor
from omnidesk.customers.models import Customer, Identity
from omnidesk.db import Base
from omnidesk.events.models import Event
from omnidesk.interactions.models import (
    Disposition,
    Interaction,
    InteractionNote,
    Message,
    MessageAttachment,
)
from omnidesk.knowledge.models import Article
from omnidesk.queues.models import Queue, QueueSkill
from omnidesk.surveys.models import Survey
from omnidesk.tenants.models import Tenant
from omnidesk.users.models import ApiKey, User

__all__ = [
    "Agent", "AgentSkill", "AnalyticsSettings", "ApiKey", "Article", "Base", "CannedResponse",
    "Channel", "Customer", "Disposition", "Event", "FillCheckpoint", "IdempotencyRecord",
    "Identity", "Interaction", "InteractionNote", "Message", "MessageAttachment", "PendingFcr",
    "Queue", "QueueSkill", "Skill", "Survey", "Team", "Tenant", "User", "WebchatUpload",
    "WebchatVisitor",
]
