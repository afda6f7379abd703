"""``python -m services.<name> [serve|migrate]``: one entry for the launcher and Docker."""

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from shared.database import migrate
from shared.service.http_protocol import guarded_protocol
from shared.settings import ServiceSettings
from shared.standards import StandardError

Settings = TypeVar("Settings", bound=ServiceSettings)


def run_service(
    settings: Settings, create_app: Callable[[Settings], FastAPI], argv: list[str]
) -> int:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    command = argv[0] if argv else "serve"
    if command == "migrate":
        applied = asyncio.run(migrate(settings.database_url, settings.service_name))
        print(f"{settings.service_name}: applied {len(applied)} migration(s) {applied}")
        return 0
    if command != "serve":
        print(f"usage: python -m services.{settings.service_name} [serve|migrate]")
        return 2
    try:
        app = create_app(settings)
    except StandardError as error:  # a broken definition file: never start half-configured
        print(f"{settings.service_name}: cannot start: {error}", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        http=guarded_protocol(settings.http_limits()),
        loop="uvloop",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    return 0
