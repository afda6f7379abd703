"""The Kafka broker: one KRaft node run straight from the jars Maven fetches for deploy/kafka."""

import base64
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from gecc.bootstrap import BootstrapError, ensure_topics
from gecc.stack import maven, processes
from gecc.stack.aio import run_blocking
from gecc.stack.config import LOCALHOST, REPO_ROOT, StackConfig
from gecc.stack.errors import StackError
from gecc.stack.state import ProcessRecord

DEPLOY_DIR = REPO_ROOT / "deploy" / "kafka"
POM = DEPLOY_DIR / "pom.xml"
LOG4J_CONFIG = DEPLOY_DIR / "log4j2.properties"
HEAP = ("-Xms256m", "-Xmx512m")
STOP_GRACE = 30.0


def start_broker(config: StackConfig) -> ProcessRecord:
    """Fetch the jars and format the storage if needed, then start the broker (not yet ready)."""
    java = maven.java_executable()
    classpath = broker_classpath(config)
    properties = write_server_properties(config)
    _format_storage(config, java, classpath, properties)
    processes.ensure_port_free(config.kafka_port, "Kafka", "GECC_KAFKA_PORT")
    processes.ensure_port_free(
        config.kafka_controller_port, "the Kafka controller", "GECC_KAFKA_CONTROLLER_PORT"
    )
    command = [java, *HEAP, *_jvm_options(config), "-cp", classpath, "kafka.Kafka", str(properties)]
    return processes.spawn(
        command, config.log_file("kafka"), config.kafka_bootstrap, cwd=_kafka_dir(config)
    )


def wait_ready(config: StackConfig, record: ProcessRecord) -> None:
    """Wait until the broker answers a metadata request; fail early if its process died."""
    processes.wait_until_ready(
        record,
        "Kafka",
        lambda: run_blocking(is_healthy(config)),
        "answer a metadata request (raise GECC_START_TIMEOUT if the machine is slow)",
        config.log_file("kafka"),
        config.start_timeout,
        interval=0.25,
    )


async def is_healthy(config: StackConfig) -> bool:
    """True when the broker answers a metadata request and lists itself."""
    if not await processes.port_accepts(config.kafka_port):
        return False
    try:
        async with _admin(config, timeout_ms=3000) as admin:
            cluster = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError):
        return False
    return bool(cluster.get("brokers"))


async def create_topics(config: StackConfig) -> list[str]:
    """Create every topic the system uses that is missing; return the names created now."""
    try:
        return await ensure_topics(config.kafka_bootstrap, config.topic_namespace)
    except BootstrapError as error:
        raise StackError(str(error)) from error


def broker_classpath(config: StackConfig) -> str:
    """The broker's classpath, resolved by Maven once and cached until pom.xml changes."""
    return maven.classpath(config, "kafka", POM, _kafka_dir(config))


def write_server_properties(config: StackConfig) -> Path:
    controller = f"{LOCALHOST}:{config.kafka_controller_port}"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": controller,
        "listeners": f"PLAINTEXT://{config.kafka_bootstrap},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{config.kafka_bootstrap}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(_data_dir(config)),
        "num.partitions": "3",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
    }
    path = _kafka_dir(config) / "server.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    return path


def _format_storage(config: StackConfig, java: str, classpath: str, properties: Path) -> None:
    if (_data_dir(config) / "meta.properties").exists():
        return
    command = [java, *_jvm_options(config), "-cp", classpath, "kafka.tools.StorageTool", "format"]
    command += ["--standalone", "-t", _new_cluster_id(), "-c", str(properties)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise StackError(
            f"formatting Kafka storage in {_data_dir(config)} failed:\n{output}\n"
            f"fix the cause above, delete {_data_dir(config)} and run again"
        )


def _new_cluster_id() -> str:
    """A cluster id as ``kafka-storage random-uuid`` makes it, without starting a JVM for it."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@asynccontextmanager
async def _admin(config: StackConfig, timeout_ms: int) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=config.kafka_bootstrap, request_timeout_ms=timeout_ms
    )
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()


def _jvm_options(config: StackConfig) -> list[str]:
    """Logging to stdout, and no file outside the home: the JVM's temporary files (native
    libraries it unpacks) go under it, and it keeps no perf-data file in /tmp (``jps`` and
    ``jstat`` do not see the broker)."""
    temporary = _kafka_dir(config) / "tmp"
    temporary.mkdir(parents=True, exist_ok=True)
    return [
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        f"-Djava.io.tmpdir={temporary}",
        "-XX:-UsePerfData",
    ]


def _kafka_dir(config: StackConfig) -> Path:
    return config.home / "kafka"


def _data_dir(config: StackConfig) -> Path:
    return _kafka_dir(config) / "data"
