"""Who is calling: a user or an API key, always inside one tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from omnidesk.errors import Forbidden
from omnidesk.users.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request."""

    tenant_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    platform_admin: bool = False
    agent_id: uuid.UUID | None = None  # the user's agent record, if the caller is an agent

    @property
    def actor(self) -> str:
        """How the caller appears in the event log."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"api_key:{self.api_key_id}"

    def require(self, *roles: Role) -> None:
        """Raise Forbidden unless the caller has one of the roles."""
        if self.role not in roles:
            wanted = " or ".join(role.value for role in roles)
            raise Forbidden(f"this needs the {wanted} role")

    def require_platform_admin(self) -> None:
        """Raise Forbidden unless the caller manages the whole installation."""
        if not self.platform_admin:
            raise Forbidden("this needs a platform administrator")


STAFF = (Role.ADMIN, Role.SUPERVISOR)
EVERYONE = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)
