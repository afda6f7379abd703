"""The service processes: ``python -m services.<name>``, ready once ``GET /health`` says 200."""

from gecc.stack import processes
from gecc.stack.config import REPO_ROOT, StackConfig
from gecc.stack.state import ProcessRecord

STOP_GRACE = 10.0


def command(config: StackConfig, name: str) -> list[str]:
    return [part.format(name=name) for part in config.service_command]


def start_service(config: StackConfig, name: str) -> ProcessRecord:
    """Start the service's process (not yet ready); its port must be free."""
    port = config.service_ports[name]
    processes.ensure_port_free(port, f"the {name} service", f"GECC_{name.upper()}_HTTP_PORT")
    return processes.spawn(
        command(config, name),
        config.log_file(name),
        config.service_address(name),
        cwd=REPO_ROOT,
        env=config.service_env(name),
    )


def is_healthy(config: StackConfig, name: str) -> bool:
    return processes.answers_ok(f"http://{config.service_address(name)}/health")


def wait_ready(config: StackConfig, name: str, record: ProcessRecord) -> None:
    """Wait until ``GET /health`` answers 200; fail early if the process died."""
    processes.wait_until_ready(
        record,
        f"the {name} service",
        lambda: is_healthy(config, name),
        "answer GET /health",
        config.log_file(name),
        config.start_timeout,
        interval=0.2,
    )
