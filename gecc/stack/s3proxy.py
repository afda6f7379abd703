"""Object storage: S3Proxy (an S3 API server) over jclouds' filesystem provider, run straight
from the jars Maven fetches for deploy/s3proxy; its objects are files under the home."""

import os
from pathlib import Path

from gecc.bootstrap import BootstrapError, ensure_bucket
from gecc.stack import maven, processes
from gecc.stack.aio import run_blocking
from gecc.stack.config import StackConfig
from gecc.stack.errors import StackError
from gecc.stack.state import ProcessRecord
from shared.object_storage import ObjectStorage, ObjectStorageConfig, ObjectStorageError

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy" / "s3proxy"
POM = DEPLOY_DIR / "pom.xml"
LOGBACK_CONFIG = DEPLOY_DIR / "logback.xml"
MAIN_CLASS = "org.gaul.s3proxy.Main"
HEAP = ("-Xms64m", "-Xmx256m")
STOP_GRACE = 10.0
PROBE_TIMEOUT = 2.0


def start_server(config: StackConfig) -> ProcessRecord:
    """Fetch the jars if needed and start S3Proxy (not yet ready); its port must be free."""
    java = maven.java_executable()
    classpath = maven.classpath(config, "s3proxy", POM, config.s3_dir)
    properties = write_properties(config)
    processes.ensure_port_free(config.s3_port, "S3Proxy", "GECC_S3_PORT")
    command = [java, *HEAP, *_jvm_options(config), "-cp", classpath, MAIN_CLASS]
    command += ["--properties", str(properties)]
    return processes.spawn(
        command, config.log_file("s3proxy"), config.s3_address, cwd=config.s3_dir
    )


def write_properties(config: StackConfig) -> Path:
    """S3Proxy's configuration: S3 signatures v2 or v4 with the stack's pair, objects as files
    under ``s3_dir/data``. Readable by its owner only (it holds the pair)."""
    data = data_dir(config)
    data.mkdir(parents=True, exist_ok=True)
    settings = {
        "s3proxy.endpoint": config.s3_endpoint,
        "s3proxy.authorization": "aws-v2-or-v4",
        "s3proxy.identity": config.s3_access_key,
        "s3proxy.credential": config.s3_secret_key,
        "jclouds.provider": "filesystem",
        "jclouds.filesystem.basedir": str(data),
    }
    path = config.s3_dir / "s3proxy.properties"
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write("".join(f"{key}={value}\n" for key, value in settings.items()))
    os.replace(partial, path)
    return path


def storage_config(config: StackConfig, timeout: float = 30.0) -> ObjectStorageConfig:
    return ObjectStorageConfig(
        endpoint=config.s3_endpoint,
        bucket=config.s3_bucket,
        access_key=config.s3_access_key,
        secret_key=config.s3_secret_key,
        region=config.s3_region,
        connect_timeout=min(timeout, 5.0),
        read_timeout=timeout,
    )


async def is_healthy(config: StackConfig) -> bool:
    """True when S3Proxy answers a signed S3 request (list the buckets) with the stack's pair."""
    if not await processes.port_accepts(config.s3_port):
        return False
    try:
        async with ObjectStorage(storage_config(config, PROBE_TIMEOUT)) as storage:
            await storage.list_buckets()
    except ObjectStorageError:
        return False
    return True


def wait_ready(config: StackConfig, record: ProcessRecord) -> None:
    """Wait until S3Proxy answers S3; fail early, with its log's tail, if its process died."""
    processes.wait_until_ready(
        record,
        "S3Proxy",
        lambda: run_blocking(is_healthy(config)),
        "answer S3 (raise GECC_START_TIMEOUT if the machine is slow)",
        config.log_file("s3proxy"),
        config.start_timeout,
        interval=0.2,
    )


async def create_bucket(config: StackConfig) -> bool:
    """Create the stack's bucket unless it exists; True when created now."""
    try:
        return await ensure_bucket(storage_config(config))
    except BootstrapError as error:
        raise StackError(str(error)) from error


def data_dir(config: StackConfig) -> Path:
    """The objects, one file each: ``<bucket>/<key>``."""
    return config.s3_dir / "data"


def _jvm_options(config: StackConfig) -> list[str]:
    """Logging at INFO to stdout; the JVM's temporary files under the home; no perf-data file."""
    temporary = config.s3_dir / "tmp"
    temporary.mkdir(parents=True, exist_ok=True)
    return [
        f"-Dlogback.configurationFile={LOGBACK_CONFIG}",
        f"-Djava.io.tmpdir={temporary}",
        "-XX:-UsePerfData",
    ]
