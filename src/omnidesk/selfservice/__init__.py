"""Self-service on the messaging channels: the server-side host of the flow engine.

See docs/selfservice.md.
"""

from omnidesk.selfservice.host import FlowHost, load_registry, message_bodies
from omnidesk.selfservice.service import SelfServiceService

__all__ = ["FlowHost", "SelfServiceService", "load_registry", "message_bodies"]
