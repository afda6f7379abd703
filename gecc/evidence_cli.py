"""``gecc evidence ...``: evidence files' upkeep, run by OPS/PMO operators against intake's
database and the object storage intake uses (the local stack's unless GECC_S3_* say)."""

import os
from datetime import UTC, datetime, timedelta
from typing import Annotated

import asyncpg
import typer

from gecc.cli_database import fail, on_database
from gecc.registry_cli import DatabaseUrl
from gecc.stack import s3proxy
from gecc.stack.config import StackConfig
from services.intake.handlers import evidence
from shared.object_storage import ObjectStorage, ObjectStorageConfig, ObjectStorageError
from shared.settings import ObjectStorageSettings

evidence_app = typer.Typer(help="Evidence files' upkeep.", no_args_is_help=True)


def storage_config() -> ObjectStorageConfig:
    """The services' GECC_S3_* when GECC_S3_ENDPOINT is set, else the local stack's."""
    if os.environ.get("GECC_S3_ENDPOINT"):
        return ObjectStorageConfig.of(ObjectStorageSettings())
    return s3proxy.storage_config(StackConfig.from_env())


@evidence_app.command("sweep")
def sweep(
    older_than_minutes: Annotated[
        float, typer.Option(min=0, help="Remove only objects older than this.")
    ] = 60.0,
    database_url: DatabaseUrl = None,
) -> None:
    """Remove evidence objects no file's metadata names (left by an upload that crashed
    between storing the bytes and committing), older than --older-than-minutes. Intake runs
    the same sweep every GECC_INTAKE_EVIDENCE_SWEEP_INTERVAL_SECONDS."""

    async def run(conn: asyncpg.Connection) -> list[str]:
        async with ObjectStorage(storage_config()) as storage:
            age = timedelta(minutes=older_than_minutes)
            return await evidence.sweep(conn, storage, age, datetime.now(UTC))

    try:
        removed = on_database("intake", database_url, run)
    except ObjectStorageError as error:
        fail(f"object storage: {error}")
    for key in removed:
        typer.echo(f"removed {key}")
    typer.echo(f"{len(removed)} orphaned object(s) removed")
