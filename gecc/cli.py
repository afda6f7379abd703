"""The ``gecc`` command: one sub-command group per concern."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from gecc.accounts_cli import accounts_app
from gecc.evidence_cli import evidence_app
from gecc.offices_cli import offices_app
from gecc.recipients_cli import recipients_app
from gecc.registry_cli import centers_app, tokens_app
from gecc.rounds_cli import rounds_app
from gecc.stack.cli import app as stack_app
from gecc.stack.cli import failing_cleanly
from gecc.stack.config import StackConfig

app = typer.Typer(help="GECC maintenance reporting: local tooling.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
docs_app = typer.Typer(help="Generated documentation.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")
app.add_typer(rounds_app, name="rounds")
app.add_typer(centers_app, name="centers")
app.add_typer(tokens_app, name="tokens")
app.add_typer(recipients_app, name="recipients")
app.add_typer(accounts_app, name="accounts")
app.add_typer(offices_app, name="offices")
app.add_typer(evidence_app, name="evidence")


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="Centers in the registry.")] = 1343,
    share: Annotated[float, typer.Option(help="Share of centers that submit.")] = 0.85,
    seed: Annotated[int, typer.Option(help="Seed of the registry and the reports.")] = 2570,
) -> None:
    """The stack, then a whole accelerated round of the registry's centers through it."""
    from gecc.demo import run_demo
    from gecc.demo_summary import render

    config = StackConfig.from_env()
    with failing_cleanly():
        result = asyncio.run(run_demo(config, count, share, seed))
    typer.echo(render(config, result))


@app.command("pmo-receiver")
def pmo_receiver(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where batches are stored. Default: $GECC_HOME/pmo."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            envvar="GECC_PMO_SECRET",
            show_default=False,
            help="Shared signing secret. Default: the local stack's.",
        ),
    ] = None,
    fail_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of POSTs answered 503.")
    ] = 0.0,
    slow_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of POSTs answered late.")
    ] = 0.0,
    slow_seconds: Annotated[
        float, typer.Option(min=0.0, help="How late a slowed POST is answered.")
    ] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Seed of the failure injection.")] = None,
) -> None:
    """The reference OPS/PMO receiver of exports: verifies signatures (5-minute window),
    stores batches once per Idempotency-Key, answers counts; can fail or be slow on purpose
    (also at run time: PUT /control from loopback)."""
    from gecc.pmo_receiver.server import Options, run

    run(
        Options(
            host=host,
            port=port,
            directory=directory,
            secret=secret,
            fail_share=fail_share,
            slow_share=slow_share,
            slow_seconds=slow_seconds,
            seed=seed,
        )
    )


@app.command()
def bootstrap(
    database_url: Annotated[str, typer.Option(help="A superuser URL of the PostgreSQL server.")],
    kafka: Annotated[str, typer.Option(help="Kafka bootstrap servers.")],
    database: Annotated[str, typer.Option(help="Database to create and migrate.")] = "gecc",
    namespace: Annotated[str, typer.Option(help="Topic namespace (prefix).")] = "",
    service_password: Annotated[
        str | None, typer.Option(help="Password to set on each service's role.")
    ] = None,
) -> None:
    """Prepare a PostgreSQL server, a Kafka cluster and object storage: roles, schemas,
    migrations, topics, and the bucket named by GECC_S3_BUCKET at GECC_S3_ENDPOINT (signed
    with GECC_S3_ACCESS_KEY/GECC_S3_SECRET_KEY, as the services read them)."""
    from gecc.bootstrap import ensure_bucket, ensure_topics, prepare_database
    from shared.object_storage import ObjectStorageConfig
    from shared.settings import ObjectStorageSettings

    applied = asyncio.run(prepare_database(database_url, database, service_password))
    created = asyncio.run(ensure_topics(kafka, namespace))
    storage = ObjectStorageConfig.of(ObjectStorageSettings())
    bucket = asyncio.run(ensure_bucket(storage))
    typer.echo(
        f"migrations applied: {sum(map(len, applied.values()))}; topics created: {created}; "
        f"bucket {storage.bucket} at {storage.endpoint}: {'created' if bucket else 'present'}"
    )


@docs_app.command("asyncapi")
def asyncapi(
    out: Annotated[Path, typer.Option(help="Where to write the AsyncAPI document (JSON).")] = Path(
        "docs/asyncapi.json"
    ),
) -> None:
    """Write the AsyncAPI document generated from the services' FastStream brokers."""
    from gecc.asyncapi import asyncapi_document

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(asyncapi_document(), encoding="utf-8")
    typer.echo(f"wrote {out}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
