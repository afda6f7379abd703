"""Bring the local stack up, report on it and take it down: the SMTP sink, the PMO receiver,
PostgreSQL, Kafka, S3Proxy (object storage), the services, and Prometheus where it is
installed."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from gecc.stack import kafka, pmo, postgres, processes, prometheus, s3proxy, sink
from gecc.stack import services as service_processes
from gecc.stack.aio import run_blocking
from gecc.stack.config import REPO_ROOT, StackConfig
from gecc.stack.database import prepare_database
from gecc.stack.errors import StackError
from gecc.stack.state import ProcessRecord, exclusive, forget, load_state, remember
from shared.topics import SERVICES

MAILSINK = "mailsink"
PMO = "pmo"
POSTGRES = "postgres"
KAFKA = "kafka"
S3 = "s3proxy"
PROMETHEUS = "prometheus"
INFRASTRUCTURE = (MAILSINK, PMO, POSTGRES, KAFKA, S3)
# Started after the rest, stopped first; it watches the services and none needs it.
OBSERVERS = (PROMETHEUS,)
# The width of the component column in what up and down print.
NAME_WIDTH = len(PROMETHEUS) + 1


class Health(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int
    address: str
    state: Health
    detail: str = ""


def up(config: StackConfig, services: bool = True) -> None:
    """Start whatever is not already running and healthy; leave the rest alone.

    The SMTP sink (the notifier sends to it) and the PMO receiver (the export service pushes
    to it) come first, also without the services. Prometheus, when ``config.prometheus_bin``
    is set, comes last, also without the services (they may be started later); when it cannot
    start, ``up`` says why and goes on without it.
    """
    with exclusive(config.home):
        # Their Python starts overlap the broker's and PostgreSQL's; ready before any service.
        mailsink = None if _already_running(config, MAILSINK) else _launch_mailsink(config)
        receiver = None if _already_running(config, PMO) else _launch_pmo(config)
        _start_infrastructure(config)
        if mailsink is not None:
            sink.wait_ready(config, mailsink)
            _announce(MAILSINK, "started", mailsink)
        if receiver is not None:
            pmo.wait_ready(config, receiver)
            _announce(PMO, "started", receiver)
        print(f"{'mail':<{NAME_WIDTH}} stored in {config.mail_dir}", flush=True)
        print(
            f"{'exports':<{NAME_WIDTH}} pushed to {config.pmo_url}, stored in {config.pmo_dir}",
            flush=True,
        )
        if services:
            _start_services(config, SERVICES)
        _start_prometheus(config)


def start_infrastructure(config: StackConfig) -> None:
    """PostgreSQL with the database migrated, Kafka with every topic created, and S3Proxy
    with the bucket created."""
    with exclusive(config.home):
        _start_infrastructure(config)


def start_object_storage(config: StackConfig) -> None:
    """S3Proxy alone, with the bucket created (tests given a running Kafka and PostgreSQL)."""
    with exclusive(config.home):
        server = None if _already_running(config, S3) else _launch_s3(config)
        _object_storage_ready(config, server)


def start_services(config: StackConfig, names: Iterable[str] = SERVICES) -> None:
    with exclusive(config.home):
        _start_services(config, names)


def stop_services(config: StackConfig) -> None:
    with exclusive(config.home):
        _stop_services(config)


def down(config: StackConfig) -> None:
    """Stop what ``up`` recorded, services first and PostgreSQL last, then clear the state."""
    with exclusive(config.home):
        state = load_state(config.state_file)
        if not state and postgres.running_postmaster(config) is None:
            print("nothing recorded as running", flush=True)
            return
        if PROMETHEUS in state:
            _stop(config, PROMETHEUS, state[PROMETHEUS], prometheus.STOP_GRACE)
        _stop_services(config)
        if MAILSINK in state:
            _stop(config, MAILSINK, state[MAILSINK], sink.STOP_GRACE)
        if PMO in state:
            _stop(config, PMO, state[PMO], pmo.STOP_GRACE)
        if KAFKA in state:
            _stop(config, KAFKA, state[KAFKA], kafka.STOP_GRACE)
        if S3 in state:
            _stop(config, S3, state[S3], s3proxy.STOP_GRACE)
        _stop_postgres(config, state.get(POSTGRES))
        config.state_file.unlink(missing_ok=True)


def status(config: StackConfig) -> list[ComponentStatus]:
    """One line per recorded component: is its process alive and does it answer?"""
    report = []
    state = load_state(config.state_file)
    for name, record in sorted(state.items(), key=lambda item: _start_order(item[0])):
        if not processes.is_ours(record):
            health, detail = Health.STOPPED, "process is gone: run `gecc stack up`"
        elif not _is_healthy(config, name):
            health, detail = Health.UNHEALTHY, _symptom(name)
        else:
            health, detail = Health.RUNNING, ""
        report.append(ComponentStatus(name, record.pid, record.address, health, detail))
    return report


def _start_infrastructure(config: StackConfig) -> None:
    # The broker and S3Proxy take seconds to listen: launch them first, prepare PostgreSQL
    # meanwhile.
    broker = None if _already_running(config, KAFKA) else _launch_kafka(config)
    storage = None if _already_running(config, S3) else _launch_s3(config)
    _ensure_postgres(config)
    applied = run_blocking(prepare_database(config))
    count = sum(len(names) for names in applied.values())
    print(
        f"{'database':<{NAME_WIDTH}} {config.database} ready, {count} migrations applied now",
        flush=True,
    )
    if broker is not None:
        kafka.wait_ready(config, broker)
        _announce(KAFKA, "started", broker)
    created = run_blocking(kafka.create_topics(config))
    print(f"{'topics':<{NAME_WIDTH}} all present, {len(created)} created now", flush=True)
    _object_storage_ready(config, storage)


def _object_storage_ready(config: StackConfig, server: ProcessRecord | None) -> None:
    if server is not None:
        s3proxy.wait_ready(config, server)
        _announce(S3, "started", server)
    created = run_blocking(s3proxy.create_bucket(config))
    print(
        f"{'bucket':<{NAME_WIDTH}} {config.s3_bucket} {'created now' if created else 'present'}"
        f", objects in {s3proxy.data_dir(config)}",
        flush=True,
    )


def _launch_mailsink(config: StackConfig) -> ProcessRecord:
    _clear_stale(config, MAILSINK, sink.STOP_GRACE)
    record = sink.start_sink(config)
    remember(config.state_file, MAILSINK, record)
    return record


def _launch_pmo(config: StackConfig) -> ProcessRecord:
    _clear_stale(config, PMO, pmo.STOP_GRACE)
    record = pmo.start_receiver(config)
    remember(config.state_file, PMO, record)
    return record


def _launch_kafka(config: StackConfig) -> ProcessRecord:
    _clear_stale(config, KAFKA, kafka.STOP_GRACE)
    record = kafka.start_broker(config)
    remember(config.state_file, KAFKA, record)
    return record


def _launch_s3(config: StackConfig) -> ProcessRecord:
    _clear_stale(config, S3, s3proxy.STOP_GRACE)
    record = s3proxy.start_server(config)
    remember(config.state_file, S3, record)
    return record


def _start_prometheus(config: StackConfig) -> None:
    """Prometheus against the stack's services, if installed; never fails ``up``."""
    if config.prometheus_bin is None:
        print(
            f"{PROMETHEUS:<{NAME_WIDTH}} not installed (apt-get install prometheus), skipped",
            flush=True,
        )
        return
    if _already_running(config, PROMETHEUS):
        if prometheus.write_config(config):  # the services' ports changed since it started
            prometheus.reload(load_state(config.state_file)[PROMETHEUS])
    else:
        _clear_stale(config, PROMETHEUS, prometheus.STOP_GRACE)
        try:
            record = prometheus.start_prometheus(config)
            remember(config.state_file, PROMETHEUS, record)
            prometheus.wait_ready(config, record)
        except StackError as error:
            _clear_stale(config, PROMETHEUS, prometheus.STOP_GRACE)
            print(f"{PROMETHEUS:<{NAME_WIDTH}} not started, skipped: {error}", flush=True)
            return
        _announce(PROMETHEUS, "started", record)
    print(
        f"{'alerts':<{NAME_WIDTH}} {config.prometheus_url}/alerts"
        f" (rules: {prometheus.ALERT_RULES.relative_to(REPO_ROOT)})",
        flush=True,
    )


def _ensure_postgres(config: StackConfig) -> None:
    if _already_running(config, POSTGRES):
        return
    postgres.stop_server(config, load_state(config.state_file).get(POSTGRES))
    forget(config.state_file, POSTGRES)
    record = postgres.start_server(config)
    remember(config.state_file, POSTGRES, record)
    _announce(POSTGRES, "started", record)


def _start_services(config: StackConfig, names: Iterable[str]) -> None:
    launched: dict[str, ProcessRecord] = {}
    for name in names:
        if _already_running(config, name):
            continue
        _clear_stale(config, name, service_processes.STOP_GRACE)
        launched[name] = service_processes.start_service(config, name)
        remember(config.state_file, name, launched[name])
    for name, record in launched.items():
        service_processes.wait_ready(config, name, record)
        _announce(name, "started", record)


def _stop_services(config: StackConfig) -> None:
    for name, record in load_state(config.state_file).items():
        if name not in INFRASTRUCTURE and name not in OBSERVERS:
            _stop(config, name, record, service_processes.STOP_GRACE)


def _stop(config: StackConfig, name: str, record: ProcessRecord, grace: float) -> None:
    was_running = processes.is_ours(record)
    processes.stop(record, grace)
    _confirm_stopped(config, name, record, was_running)


def _stop_postgres(config: StackConfig, record: ProcessRecord | None) -> None:
    was_running = record is not None and processes.is_ours(record)
    postgres.stop_server(config, record)
    if postgres.running_postmaster(config) is not None:
        raise StackError(
            f"PostgreSQL still runs on {postgres.server_files(config).data} after pg_ctl stop: "
            f"see {config.log_file(POSTGRES)}"
        )
    if record is not None:
        _confirm_stopped(config, POSTGRES, record, was_running)


def _confirm_stopped(
    config: StackConfig, name: str, record: ProcessRecord, was_running: bool
) -> None:
    if processes.is_ours(record):
        raise StackError(f"{name} (pid {record.pid}) is still running after stop: kill it by hand")
    forget(config.state_file, name)
    _announce(name, "stopped" if was_running else "already stopped", record)


def _already_running(config: StackConfig, name: str) -> bool:
    record = load_state(config.state_file).get(name)
    if record is None or not processes.is_ours(record) or not _is_healthy(config, name):
        return False
    _announce(name, "already running", record)
    return True


def _clear_stale(config: StackConfig, name: str, grace: float) -> None:
    """Drop a record whose process died; stop one that lives but does not answer."""
    record = load_state(config.state_file).get(name)
    if record is not None:
        processes.stop(record, grace)
        forget(config.state_file, name)


def _is_healthy(config: StackConfig, name: str) -> bool:
    if name == POSTGRES:
        return run_blocking(postgres.is_healthy(config))
    if name == KAFKA:
        return run_blocking(kafka.is_healthy(config))
    if name == S3:
        return run_blocking(s3proxy.is_healthy(config))
    if name == MAILSINK:
        return sink.is_healthy(config)
    if name == PMO:
        return pmo.is_healthy(config)
    if name == PROMETHEUS:
        return prometheus.is_healthy(config)
    return service_processes.is_healthy(config, name)


def _start_order(name: str) -> int:
    order = [*INFRASTRUCTURE, *SERVICES, *OBSERVERS]
    return order.index(name) if name in order else len(order)


def _symptom(name: str) -> str:
    if name == POSTGRES:
        return "refuses connections"
    if name == KAFKA:
        return "does not answer metadata requests"
    if name == S3:
        return "does not answer a signed S3 request (list the buckets)"
    if name == MAILSINK:
        return "does not greet with SMTP 220"
    if name == PROMETHEUS:
        return "GET /-/ready does not answer 200"
    return "GET /health does not answer 200"


def _announce(name: str, event: str, record: ProcessRecord) -> None:
    print(f"{name:<{NAME_WIDTH}} {event:<16} pid {record.pid:<7} {record.address}", flush=True)
