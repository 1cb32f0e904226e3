"""The one place where the parts are wired: `create_app(settings)`."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

from litestar import Litestar, Router, get
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from api.access_log import AccessLoggedLitestar
from api.account import AccountController
from api.audit import AuditController
from api.auth import rate_headers
from api.body import ContractRequest
from api.client_address import trusted_networks
from api.clients import ClientController
from api.context import DEPENDENCIES, command_threads, provide_services
from api.dependency_order import sequential
from api.docs_page import ASSETS, DOCS_CSP, docs_page
from api.errors import EXCEPTION_HANDLERS, request_id
from api.events import EventController
from api.gate import ApiGate
from api.health import live, ready
from api.http_edges import allowed_methods
from api.invoice_sending import InvoiceSendingController
from api.invoices import InvoiceController
from api.openapi import SECURITY, ContractStructs, json_plugin, operation_id
from api.portal.dashboard import DashboardController
from api.portal.developer import DeveloperController
from api.portal.sign_in import SignInController
from api.recurring import RecurringController
from api.response_headers import ResponseHeaders
from api.responses import ExperiResponse
from api.services import build_services
from api.webhooks import WebhookEndpointController
from application.ports import Clock
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings

MAX_BODY = 1024 * 1024
STATIC = Path(__file__).parent / "static"


# Responses that are not pages load nothing and may not be framed.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


async def stamp_response(message: Message, scope: Scope) -> None:
    """Every response carries X-Request-Id and the security headers; JSON says its charset."""
    if message["type"] != "http.response.start":
        return
    headers = ResponseHeaders(message)
    headers["X-Request-Id"] = request_id(scope)
    rate_headers(scope, headers, message["status"])
    if headers.get("content-type") == "application/json":
        headers["content-type"] = "application/json; charset=utf-8"
    path = scope.get("path", "")
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    if path == "/api/v1" or path.startswith("/api/v1/"):
        headers["Cache-Control"] = "no-store"  # answers carry account data
    if "content-security-policy" not in headers:  # portal pages set their own
        headers["Content-Security-Policy"] = DOCS_CSP if path == "/docs" else DATA_CSP
    if scope["litestar_app"].state.services.settings.hsts:
        headers["Strict-Transport-Security"] = HSTS
    if scope.get("method") == "OPTIONS" and message["status"] == 204:
        headers["Allow"] = allowed_methods(scope)
    allow = headers.get("allow")
    if allow and "GET" in allow and "HEAD" not in allow:
        headers["Allow"] = f"{allow}, HEAD"  # HEAD is answered wherever GET is


DESCRIPTION = (
    "Invoicing for developers: clients, invoices, payments, outstanding. Every error has one "
    "shape (`error.code` names its kind); a wrong method is a 405 with `Allow`; unknown "
    "fields and query parameters are refused by name."
)


@get("/", include_in_schema=False)
async def to_docs() -> Redirect:
    """The root shows the interactive reference."""
    return Redirect("/docs")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    services: Services | None = None,
) -> Litestar:
    settings = settings or Settings.from_env()
    sequential()
    command_threads(settings.command_threads)
    trusted_networks(settings.trusted_proxies)  # a malformed EXPERI_TRUSTED_PROXIES fails here
    services = services or build_services(settings, clock)

    api = Router(
        path="/api/v1",
        route_handlers=[
            ClientController,
            InvoiceController,
            InvoiceSendingController,
            AuditController,
            AccountController,
            RecurringController,
            EventController,
            WebhookEndpointController,
        ],
        middleware=[ApiGate()],
        dependencies=DEPENDENCIES,
        request_class=ContractRequest,
    )
    app = AccessLoggedLitestar(
        route_handlers=[
            api,
            live,
            ready,
            to_docs,
            docs_page,
            create_static_files_router(
                path=ASSETS,
                directories=[STATIC / "swagger-ui", STATIC / "docs"],
                include_in_schema=False,
            ),
            create_static_files_router(
                path="/static", directories=[STATIC / "portal"], include_in_schema=False
            ),
            SignInController,
            DashboardController,
            DeveloperController,
        ],
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[stamp_response],
        response_class=ExperiResponse,
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        plugins=[ContractStructs()],
        request_max_body_size=MAX_BODY,
        on_startup=[services.start_background_jobs, services.db.open_reads],
        on_shutdown=[services.db.close_reads, services.close],
        openapi_config=OpenAPIConfig(
            title="Experi API",
            version="1.0.0",
            description=DESCRIPTION,
            path="/openapi.json",
            render_plugins=[json_plugin()],
            operation_id_creator=operation_id,
            use_handler_docstrings=False,
            create_examples=False,
            components=Components(
                security_schemes={
                    SECURITY: SecurityScheme(
                        type="http", scheme="bearer", bearer_format="exp_live_<key id>_<secret>"
                    )
                }
            ),
        ),
        on_app_init=[_quiet_framework_logs],
        debug=False,
    )
    app.state.services = services
    return app


def _quiet_framework_logs(config: AppConfig) -> AppConfig:
    logging.getLogger("litestar").setLevel(logging.CRITICAL)
    return config


def app_from_env() -> Any:
    """Factory for the ASGI server: settings from the environment.

    Everything built at start-up (modules, the app, its routes and schemas) lives as
    long as the process: `gc.freeze` takes it out of the collector's scans, so the
    full collections that a busy server runs now and then stay short, and so do the
    pauses they add to a request's latency."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
