"""Self-service on the messaging channels: the server-side host of the flow engine.

See docs/selfservice.md.
"""

from omnidesk.selfservice.host import BotMessage, FlowHost, bot_messages, load_registry
from omnidesk.selfservice.service import SelfServiceService

__all__ = ["BotMessage", "FlowHost", "SelfServiceService", "bot_messages", "load_registry"]
