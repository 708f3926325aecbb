"""A tenant with an admin, a supervisor and an agent, and a way to write articles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import PASSWORD, Api, make_tenant

ARTICLES: list[dict[str, Any]] = [
    {"title": "Returning an item", "slug": "returns", "category": "returns",
     "tags": ["refund", "return-label"], "status": "published",
     "body": "# How to return\n\nYou can **return** any item within 30 days. Print the "
             "prepaid return label from your account and drop the parcel at a post office. "
             "The refund reaches your card within 5 business days."},
    {"title": "Delivery times", "slug": "delivery-times", "category": "delivery",
     "tags": ["shipping"], "status": "published",
     "body": "Standard delivery takes 2 to 4 business days. Express delivery arrives the next "
             "day when you order before 14:00."},
    {"title": "Payment methods", "slug": "payment-methods", "category": "billing",
     "tags": ["card", "paypal"], "status": "published",
     "body": "We accept Visa, Mastercard, PayPal and bank transfer. Invoices are sent by "
             "email."},
    {"title": "Secret Black Friday discount codes", "slug": "black-friday", "category": "billing",
     "tags": ["discount"], "status": "draft",
     "body": "Internal: discount code BLACKFRIDAY gives 30 % off. Refund rules stay the same."},
]


@dataclass
class Kb:
    """Headers of the tenant's people and the ids of its articles by slug."""

    admin: dict[str, str]
    supervisor: dict[str, str]
    agent: dict[str, str]
    ids: dict[str, str]

    async def create(self, api: Api, **article: Any) -> dict[str, Any]:
        """Create an article as the admin."""
        response = await api.client.post("/api/v1/knowledge/articles", headers=self.admin,
                                         json=article)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        self.ids[created["slug"]] = created["id"]
        return created


async def make_kb(api: Api, slug: str, articles: list[dict[str, Any]] | None = None) -> Kb:
    """A tenant with people and articles (default: ARTICLES)."""
    await make_tenant(api.db, slug, admin_email=f"admin@{slug}.example")
    admin = await api.login(slug, f"admin@{slug}.example")
    for role in ("supervisor", "agent"):
        response = await api.client.post("/api/v1/users", headers=admin, json={
            "email": f"{role}@{slug}.example", "name": role.title(), "role": role,
            "password": PASSWORD})
        assert response.status_code == 201, response.text
    kb = Kb(admin=admin, supervisor=await api.login(slug, f"supervisor@{slug}.example"),
            agent=await api.login(slug, f"agent@{slug}.example"), ids={})
    for article in ARTICLES if articles is None else articles:
        await kb.create(api, **article)
    return kb


@pytest.fixture
async def kb(api: Api) -> Kb:
    """Tenant acme with ARTICLES (three published, one draft)."""
    return await make_kb(api, "acme")
