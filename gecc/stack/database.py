"""The local stack's database: the generic bootstrap, pointed at the local server."""

from gecc.bootstrap import prepare_database as bootstrap_database
from gecc.stack.config import SUPERUSER, StackConfig


async def prepare_database(config: StackConfig) -> dict[str, list[str]]:
    """Create the database, roles and schemas if missing; return the migrations applied now."""
    return await bootstrap_database(config.postgres_url(SUPERUSER, "postgres"), config.database)
