"""The ASGI application: API under /api/v1, health, metrics; the lifespan opens the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnidesk import __version__, http_errors
from omnidesk.acd.api import router as acd_router
from omnidesk.acd.service import AcdService
from omnidesk.agents.api import router as agents_router
from omnidesk.analytics.api import page_router as analytics_page_router
from omnidesk.analytics.api import router as analytics_router
from omnidesk.analytics.service import AnalyticsService
from omnidesk.auth.api import router as auth_router
from omnidesk.auth.known_users import KnownUsers
from omnidesk.canned.api import router as canned_router
from omnidesk.channels.api import router as channels_router
from omnidesk.channels.api_channel.adapter import router as api_channel_router
from omnidesk.channels.email.imap import ImapService
from omnidesk.channels.email.server import start_email_server
from omnidesk.channels.known import KnownChannels
from omnidesk.channels.outbound import OutboundService
from omnidesk.channels.telegram.adapter import router as telegram_router
from omnidesk.channels.twilio.adapter import router as twilio_router
from omnidesk.channels.twilio_voice.adapter import router as twilio_voice_router
from omnidesk.channels.twilio_voice.service import TwilioVoiceService
from omnidesk.channels.voice.service import start_voice_service
from omnidesk.channels.voice.webrtc_api import router as voice_webrtc_router
from omnidesk.channels.webchat.api import router as webchat_router
from omnidesk.channels.webchat.hub import VisitorHub
from omnidesk.channels.webchat.pages import router as webchat_pages_router
from omnidesk.channels.whatsapp.adapter import router as whatsapp_router
from omnidesk.clock import Clock
from omnidesk.collector import KeptHeap
from omnidesk.config import Settings
from omnidesk.configuration.api import router as configuration_router
from omnidesk.customers.api import router as customers_router
from omnidesk.db import Database, upgrade
from omnidesk.events.api import router as events_router
from omnidesk.events.bus import create_bus
from omnidesk.intake import REQUEST_ARRIVED
from omnidesk.interactions.api import dispositions_router
from omnidesk.interactions.api import router as interactions_router
from omnidesk.knowledge.api import router as knowledge_router
from omnidesk.knowledge.helpcenter import router as help_center_router
from omnidesk.queues.api import router as queues_router
from omnidesk.realtime.hub import StreamHub
from omnidesk.realtime.signals import create_signal_bus
from omnidesk.realtime.signals_api import router as signals_router
from omnidesk.realtime.stream import router as stream_router
from omnidesk.selfservice import SelfServiceService, load_registry
from omnidesk.supervision.api import router as supervision_router
from omnidesk.surveys.pages import router as survey_pages_router
from omnidesk.surveys.service import SurveyService
from omnidesk.tenants.api import router as tenants_router
from omnidesk.users.api import router as users_router
from omnidesk.web import pages as web_pages
from omnidesk.wfm.api import router as wfm_router

REQUESTS = Counter("omnidesk_http_requests_total", "HTTP requests",
                   ["method", "handler", "status"])
LATENCY = Histogram("omnidesk_http_request_seconds", "HTTP request latency",
                    ["method", "handler"])

# FastAPI tries the routes in this order, one after another, for every request (≈ 2–5 µs
# a route, docs/development.md), so the routers of the most frequent requests come first:
# the API channel's post, the agent's accept and state changes, then the agent's typing
# signal and the providers' webhooks (each customer message). No path of a later router is
# shadowed by the move (checked by tests/test_routes.py). Each is included in the app
# itself, under API_PREFIX: one router level less to match at every request than under an
# /api/v1 router of their own.
API_PREFIX = "/api/v1"
API_ROUTERS = (api_channel_router, acd_router, interactions_router, signals_router,
               twilio_router, whatsapp_router, telegram_router, twilio_voice_router,
               auth_router, tenants_router, users_router, agents_router, queues_router,
               customers_router, channels_router, events_router, configuration_router,
               stream_router, wfm_router, analytics_router, supervision_router, canned_router,
               knowledge_router, webchat_router, dispositions_router, voice_webrtc_router)


class RequestMetrics:
    """Counts and times every HTTP request by handler (a plain ASGI middleware: cheap)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        arrival = REQUEST_ARRIVED.set(started)
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            REQUEST_ARRIVED.reset(arrival)
            handler = getattr(scope.get("route"), "name", "unmatched")
            REQUESTS.labels(scope["method"], handler, str(status)).inc()
            LATENCY.labels(scope["method"], handler).observe(time.perf_counter() - started)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               migrate: bool = True, owns_process: bool = False) -> FastAPI:
    """Build the app; the lifespan migrates the schema and opens the database and bus.

    The lifespan takes the settings and clock from `app.state` each time it starts, so one
    app (its routes built once) can be run again with others. An app that `owns_process`
    (`omnidesk serve`) also drives the process's garbage collector (`omnidesk.collector`).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings: Settings = app.state.settings
        clock: Clock | None = app.state.clock
        if migrate:
            await asyncio.to_thread(upgrade, settings.resolved_database_url)
        settings.resolved_secret_key  # noqa: B018 - generate and persist it on first start
        bus = create_bus(settings.redis_url)
        app.state.db = Database(settings.resolved_database_url, bus, clock,
                                pool_timeout=settings.database_pool_timeout_seconds,
                                max_routing_lag=settings.max_routing_lag_seconds)
        app.state.known_users = KnownUsers(app.state.db)
        await app.state.known_users.start()
        app.state.known_channels = KnownChannels(app.state.db)
        await app.state.known_channels.start()
        app.state.acd = AcdService(app.state.db)
        app.state.hub = StreamHub(app.state.db)
        app.state.db.intake.watch(app.state.acd.lag_seconds)
        app.state.db.intake.watch(app.state.hub.lag_seconds)
        app.state.analytics = AnalyticsService(app.state.db)
        app.state.outbound = OutboundService(app.state.db, data_dir=settings.data_dir)
        await app.state.acd.start()
        await app.state.hub.start()
        await app.state.outbound.start()
        await app.state.analytics.start()
        app.state.signals = create_signal_bus(settings.redis_url)
        app.state.webchat = VisitorHub(app.state.db)
        await app.state.webchat.start()
        app.state.signals.listen(app.state.hub.signal)
        app.state.signals.listen(app.state.webchat.on_signal)
        app.state.email = await start_email_server(app.state.db, settings)
        app.state.imap = ImapService(app.state.db, data_dir=settings.data_dir)
        await app.state.imap.start()
        app.state.flows = await asyncio.to_thread(load_registry, settings.data_dir)
        public_url = f"http://{settings.http_host}:{settings.http_port}"
        app.state.selfservice = SelfServiceService(app.state.db, app.state.flows,
                                                   public_url=public_url)
        await app.state.selfservice.start()
        app.state.surveys = SurveyService(
            app.state.db, key=settings.resolved_secret_key.get_secret_value(),
            public_url=public_url)
        await app.state.surveys.start()
        app.state.twilio_voice = TwilioVoiceService(app.state.db, app.state.flows,
                                                    acd=app.state.acd)
        await app.state.twilio_voice.start()
        app.state.voice = await start_voice_service(app.state.db, settings, app.state.flows,
                                                     acd=app.state.acd)
        heap = KeptHeap(settings.gc_full_seconds) if owns_process else None
        if heap is not None:
            heap.start()
        try:
            yield
        finally:
            if heap is not None:
                await heap.stop()
            if app.state.voice is not None:
                await app.state.voice.stop()
            await app.state.twilio_voice.stop()
            await app.state.surveys.stop()
            await app.state.selfservice.stop()
            await app.state.imap.stop()
            await app.state.email.stop()
            await app.state.webchat.stop()
            await app.state.signals.close()
            await app.state.analytics.stop()
            await app.state.outbound.stop()
            await app.state.hub.stop()
            await app.state.acd.stop()
            await app.state.known_channels.stop()
            await app.state.known_users.stop()
            await app.state.db.dispose()
            await bus.close()

    app = FastAPI(title="omnidesk", version=__version__, lifespan=lifespan,
                  description="Open-source omnichannel contact center API.")
    app.state.settings = settings or Settings()
    app.state.clock = clock
    http_errors.install(app)
    app.add_middleware(RequestMetrics)
    for domain_router in API_ROUTERS:
        app.include_router(domain_router, prefix=API_PREFIX)
    app.include_router(analytics_page_router)
    app.include_router(help_center_router)
    app.include_router(survey_pages_router)
    app.include_router(webchat_pages_router)
    web_pages.install(app)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["ops"])
    app.add_api_route("/readyz", readyz, methods=["GET"], tags=["ops"])
    app.add_api_route("/metrics", metrics, methods=["GET"], tags=["ops"])
    return app


async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok", "version": __version__}


async def readyz(request: Request) -> JSONResponse:
    """The database answers (503 if not)."""
    db: Database = request.app.state.db
    try:
        async with db.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:
        return JSONResponse({"status": "unavailable", "reason": type(error).__name__},
                            status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
