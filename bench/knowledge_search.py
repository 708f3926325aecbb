"""Knowledge-base search quality: does the right demo article rank first?

Run alone:  .venv/bin/python bench/knowledge_search.py            (all questions, SQLite)
            .venv/bin/python bench/knowledge_search.py --quick    (the first 10 questions)
            --postgres postgresql://postgres@127.0.0.1:5432       (also on PostgreSQL)

Applies the demo center (src/omnidesk/demo/center.yaml: 15 help-center articles) to a fresh
database, asks customer-style questions through the same search the API, the agent
suggestions and the flows use, and counts how often the article a person would pick ranks
first and in the top three. The questions are worded as customers write, not copied from
the articles. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from omnidesk.configuration.apply import apply_center, load_center
from omnidesk.db import Database, upgrade
from omnidesk.demo import DEMO_CENTER
from omnidesk.events.bus import InProcessBus
from omnidesk.knowledge.search import search
from omnidesk.tenants.service import find_by_slug

# (question, the slug of the article that should rank first)
QUESTIONS: list[tuple[str, str]] = [
    ("where is my parcel? the tracking hasn't updated", "track-your-order"),
    ("I ordered the wrong size, can I still cancel the order?", "change-or-cancel-an-order"),
    ("the mug I got arrived broken", "missing-or-damaged-items"),
    ("how many days do I have to send something back", "return-policy"),
    ("how do I print a return label", "how-to-return-an-item"),
    ("when do I get my money back?", "refunds"),
    ("how much does shipping cost", "delivery-times-and-costs"),
    ("do you deliver to the UK?", "international-shipping"),
    ("I moved, can you send the parcel to my new address", "change-delivery-address"),
    ("can I pay with paypal", "payment-methods"),
    ("I need an invoice for my company with our VAT number", "invoices-and-vat"),
    ("my promo code doesn't work", "gift-cards-and-discount-codes"),
    ("I forgot my password", "reset-your-password"),
    ("how do I change the email address on my account", "update-account-details"),
    ("please delete all my personal data", "delete-your-account"),
    ("can I get express delivery by tomorrow", "delivery-times-and-costs"),
    ("do I have to pay customs for Switzerland", "international-shipping"),
    ("my card payment was declined", "payment-methods"),
    ("one item is missing from my package", "missing-or-damaged-items"),
    ("can I exchange a shirt for another colour", "return-policy"),
    ("I can't sign in, my account is locked", "reset-your-password"),
    ("how long until my refund shows on my credit card", "refunds"),
]
QUICK = 10


async def _measure(url: str, questions: list[tuple[str, str]]) -> dict[str, float]:
    database = Database(url, InProcessBus())
    try:
        async with database.write() as session:
            await apply_center(session, load_center(DEMO_CENTER.read_text(), "demo"),
                               actor="bench")
        top1 = top3 = 0
        times: list[float] = []
        async with database.read() as session:
            tenant = await find_by_slug(session, "demo")
            assert tenant is not None
            for question, expected in questions:
                started = time.perf_counter()
                hits = await search(session, tenant_id=tenant.id, query=question, limit=3)
                times.append((time.perf_counter() - started) * 1000)
                slugs = [hit.article.slug for hit in hits]
                top1 += slugs[:1] == [expected]
                top3 += expected in slugs
                mark = "ok " if slugs[:1] == [expected] else ("top3" if expected in slugs
                                                              else "MISS")
                print(f"  {mark} {question!r} -> {slugs} (want {expected})")
    finally:
        await database.dispose()
    count = len(questions)
    return {"top1_pct": round(100 * top1 / count, 1), "top3_pct": round(100 * top3 / count, 1),
            "queries": count, "median_ms": round(statistics.median(times), 2)}


async def _postgres(server: str, questions: list[tuple[str, str]]) -> dict[str, float]:
    name = f"omnidesk_kbbench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{server.rstrip('/')}/postgres")
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    url = f"{server.rstrip('/').replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        return await _measure(url, questions)
    finally:
        admin = await asyncpg.connect(f"{server.rstrip('/')}/postgres")
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


def main() -> int:
    """Run the questions on SQLite (and PostgreSQL when asked); print the shares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only the first {QUICK} questions")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server URL (no database)")
    args = parser.parse_args()
    questions = QUESTIONS[:QUICK] if args.quick else QUESTIONS
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'kb.db'}"
        upgrade(url)
        print("SQLite FTS5:")
        result: dict[str, object] = {**asyncio.run(_measure(url, questions)), "backend": "sqlite"}
    if args.postgres:
        print("PostgreSQL:")
        pg = asyncio.run(_postgres(args.postgres, questions))
        result.update({f"postgres_{key}": value for key, value in pg.items()
                       if key != "queries"})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
