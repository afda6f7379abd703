"""The periodic sweep of evidence objects no row needs (``handlers.evidence.sweep``)."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from services.intake.handlers import evidence
from shared.messaging.runtime import ServiceRuntime
from shared.object_storage import ObjectStorage, ObjectStorageError

log = logging.getLogger(__name__)


async def sweep_periodically(
    runtime: ServiceRuntime, storage: ObjectStorage, interval: float, age: float
) -> None:
    """Every ``interval`` seconds (the first after one interval); a failed sweep is logged
    and tried again at the next. Ages are real time (object storage's clock), whatever the
    service clock's speed."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with runtime.pool.acquire() as conn:
                await evidence.sweep(conn, storage, timedelta(seconds=age), datetime.now(UTC))
        except ObjectStorageError as error:
            log.warning("evidence sweep: object storage: %s", error)
